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
        services.AddMetrics();
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
    /// Applies settings to one client, or to every client. Settings for every client run before any named
    /// configuration, whatever the order of registration, so the more specific ones win.
    /// </summary>
    public static void Configure(IServiceCollection services, string? clientName, Action<CircuitBreakerOptions> configure)
    {
        if (clientName is null)
        {
            GetAllClientsConfiguration(services).Add((_, options) => configure(options));
        }
        else
        {
            services.Configure(clientName, configure);
        }
    }

    public static void Configure(IServiceCollection services, string? clientName, IConfiguration section)
    {
        if (clientName is null)
        {
            GetAllClientsConfiguration(services).Add((name, options) => Bind(section, name, options));
        }
        else
        {
            services.Configure<CircuitBreakerOptions>(clientName, options => Bind(section, clientName, options));
        }

        services.AddSingleton(new ConfigurationReloadSource(section, clientsSection: null));
    }

    /// <summary>
    /// Binds every client from one section of the documented shape: <c>Defaults</c> for every client and
    /// <c>Clients:&lt;name&gt;</c> for one.
    /// </summary>
    public static void ConfigureFromSection(IServiceCollection services, IConfiguration section)
    {
        services.AddOptions();
        IConfiguration defaults = section.GetSection(DefaultsKey);
        IConfiguration clients = section.GetSection(ClientsKey);

        GetAllClientsConfiguration(services).Add((name, options) =>
        {
            CheckSectionShape(section, name);
            Bind(defaults, name, options);
        });
        services.AddSingleton<IConfigureOptions<CircuitBreakerOptions>>(new ClientSectionConfiguration(clients));
        services.AddSingleton(new ConfigurationReloadSource(section, clients));
    }

    /// <summary>The key, under the section given to <c>ConfigureCircuitBreakers</c>, of the settings for every client.</summary>
    public const string DefaultsKey = "Defaults";

    /// <summary>The key, under the section given to <c>ConfigureCircuitBreakers</c>, of the settings per client name.</summary>
    public const string ClientsKey = "Clients";

    /// <summary>
    /// Rejects a key beside <c>Defaults</c> and <c>Clients</c>, such as an option written one level too high,
    /// which would otherwise be ignored.
    /// </summary>
    private static void CheckSectionShape(IConfiguration section, string clientName)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!string.Equals(child.Key, DefaultsKey, StringComparison.OrdinalIgnoreCase) && !string.Equals(child.Key, ClientsKey, StringComparison.OrdinalIgnoreCase))
            {
                string path = section is IConfigurationSection named ? named.Path : "(root)";
                throw new OptionsValidationException(clientName, typeof(CircuitBreakerOptions),
                [
                    $"Configuration section '{path}' has the key '{child.Key}', but it holds only '{DefaultsKey}' (options for every client) and " +
                    $"'{ClientsKey}' (options per client name). Move '{child.Key}' under '{path}:{DefaultsKey}' or '{path}:{ClientsKey}:<client name>'.",
                ]);
            }
        }
    }

    /// <summary>
    /// Binds <c>Clients:&lt;name&gt;</c> for whichever client is being configured. It runs in registration order
    /// among the configurations of one client, so code registered after it wins.
    /// </summary>
    private sealed class ClientSectionConfiguration(IConfiguration clients) : IConfigureNamedOptions<CircuitBreakerOptions>
    {
        public void Configure(string? name, CircuitBreakerOptions options)
        {
            string clientName = name ?? Options.DefaultName;
            IConfigurationSection client = clients.GetSection(clientName);
            if (client.Exists())
            {
                Bind(client, clientName, options);
            }
        }

        public void Configure(CircuitBreakerOptions options) => Configure(Options.DefaultName, options);
    }

    /// <summary>
    /// Binds a section, turning a value the binder cannot convert into the same exception that an out-of-range
    /// value raises, with the client named and the expected formats stated.
    /// </summary>
    private static void Bind(IConfiguration section, string clientName, CircuitBreakerOptions options)
    {
        try
        {
            // A misspelled key would otherwise leave its option at the default without a word.
            section.Bind(options, static binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException exception)
        {
            string path = section is IConfigurationSection named ? named.Path : "(root)";
            string message =
                $"Circuit breaker options of client '{clientName}' could not be read from configuration section '{path}': {exception.Message} " +
                "Check the key names against CircuitBreakerOptions, and write durations as 00:00:30, ratios with a dot such as 0.5, and FailureStatusCodes as 500-599,429";
            throw new OptionsValidationException(clientName, typeof(CircuitBreakerOptions), [message]);
        }

        TurnOffEmptyOptionalSettings(section, options);
    }

    /// <summary>
    /// Sets to <see langword="null"/> each option that can be off and whose key has an empty value. The binder
    /// leaves a property unchanged for an empty value, so configuration could otherwise never turn off
    /// <c>PartitionIdleTimeout</c>, which is on by default, nor a setting that <c>Defaults</c> turned on.
    /// </summary>
    private static void TurnOffEmptyOptionalSettings(IConfiguration section, CircuitBreakerOptions options)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (child.Value is not { Length: 0 })
            {
                continue;
            }

            string key = child.Key;
            if (IsKey(key, nameof(CircuitBreakerOptions.FailureRatio)))
            {
                options.FailureRatio = null;
            }
            else if (IsKey(key, nameof(CircuitBreakerOptions.SlowCallDuration)))
            {
                options.SlowCallDuration = null;
            }
            else if (IsKey(key, nameof(CircuitBreakerOptions.Timeout)))
            {
                options.Timeout = null;
            }
            else if (IsKey(key, nameof(CircuitBreakerOptions.MaxBreakDuration)))
            {
                options.MaxBreakDuration = null;
            }
            else if (IsKey(key, nameof(CircuitBreakerOptions.ProbeSuccessThreshold)))
            {
                options.ProbeSuccessThreshold = null;
            }
            else if (IsKey(key, nameof(CircuitBreakerOptions.PartitionIdleTimeout)))
            {
                options.PartitionIdleTimeout = null;
            }
        }
    }

    private static bool IsKey(string key, string optionName) => string.Equals(key, optionName, StringComparison.OrdinalIgnoreCase);

    private static AllClientsConfiguration GetAllClientsConfiguration(IServiceCollection services)
    {
        foreach (ServiceDescriptor descriptor in services)
        {
            if (!descriptor.IsKeyedService && descriptor.ImplementationInstance is AllClientsConfiguration existing)
            {
                return existing;
            }
        }

        var created = new AllClientsConfiguration();
        services.Insert(0, ServiceDescriptor.Singleton<IConfigureOptions<CircuitBreakerOptions>>(created));
        return created;
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
        ClientCircuits client = registry.GetOrCreateClient(builder.Name ?? Options.DefaultName);
        builder.AdditionalHandlers.Add(new CircuitBreakerHandler(client, registry.Logger));
    }
}
