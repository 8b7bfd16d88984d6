using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Internal;

/// <summary>
/// Service registrations shared by the <c>AddCircuitBreaker</c> overloads.
/// </summary>
internal static class CircuitBreakerServices
{
    /// <summary>
    /// Adds the breaker to one client, or to every client when <paramref name="clientName"/> is
    /// <see langword="null"/>.
    /// </summary>
    public static void AddCircuitBreaker(IServiceCollection services, string? clientName)
    {
        services.AddOptions();
        services.TryAddSingleton<CircuitBreakerRegistry>();
        services.TryAddSingleton<ICircuitBreakerRegistry>(static provider => provider.GetRequiredService<CircuitBreakerRegistry>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CircuitBreakerOptions>, CircuitBreakerOptionsValidator>());
        services.AddSingleton(new CircuitBreakerRegistration(clientName));

        if (clientName is null)
        {
            services.ConfigureAll<HttpClientFactoryOptions>(static options => options.HttpMessageHandlerBuilderActions.Add(AddHandler));
        }
        else
        {
            services.Configure<HttpClientFactoryOptions>(clientName, static options => options.HttpMessageHandlerBuilderActions.Add(AddHandler));
        }

        // Hosts that validate on start report invalid options before the first request. For every client this
        // checks the default name, which the options for every client also configure.
        services.AddOptions<CircuitBreakerOptions>(clientName ?? Options.DefaultName).ValidateOnStart();
    }

    /// <summary>
    /// Applies settings to one client, or to every client. Settings of one client are applied after those of
    /// every client, whatever the order of registration, so the more specific ones win.
    /// </summary>
    public static void Configure(IServiceCollection services, string? clientName, Action<CircuitBreakerOptions> configure)
    {
        if (clientName is null)
        {
            services.ConfigureAll(configure);
        }
        else
        {
            services.PostConfigure(clientName, configure);
        }
    }

    public static void Configure(IServiceCollection services, string? clientName, IConfiguration section)
    {
        Configure(services, clientName, options => section.Bind(options));
        services.AddSingleton<IOptionsChangeTokenSource<CircuitBreakerOptions>>(
            new ConfigurationChangeTokenSource<CircuitBreakerOptions>(clientName ?? Options.DefaultName, section));
    }

    private static void AddHandler(HttpMessageHandlerBuilder builder)
    {
        // A client registered both on its own and through the registration for every client gets one breaker,
        // not two that would count each failure twice.
        foreach (DelegatingHandler handler in builder.AdditionalHandlers)
        {
            if (handler is CircuitBreakerHandler)
            {
                return;
            }
        }

        CircuitBreakerRegistry registry = builder.Services.GetRequiredService<CircuitBreakerRegistry>();
        Circuit circuit = registry.GetOrCreateCircuit(builder.Name ?? Options.DefaultName);
        builder.AdditionalHandlers.Add(new CircuitBreakerHandler(circuit, registry.Logger));
    }
}
