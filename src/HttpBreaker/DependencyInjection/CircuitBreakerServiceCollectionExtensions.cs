using HttpBreaker;
using HttpBreaker.Internal;
using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds a circuit breaker to every <see cref="HttpClient"/> that <see cref="IHttpClientFactory"/> creates, each
/// client with a circuit of its own.
/// </summary>
public static class CircuitBreakerServiceCollectionExtensions
{
    /// <summary>
    /// Adds a circuit breaker with default options to every client.
    /// </summary>
    /// <param name="services">The service collection, for example as returned by <c>AddHttpClient()</c>.</param>
    /// <returns>The same service collection, for chaining.</returns>
    public static IServiceCollection AddCircuitBreaker(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        CircuitBreakerServices.AddCircuitBreaker(services, clientName: null);
        return services;
    }

    /// <summary>
    /// Adds a circuit breaker to every client and configures the options they share.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">
    /// Sets the options of every client. Settings given to one client through its own <c>AddCircuitBreaker</c>
    /// are applied after these.
    /// </param>
    /// <returns>The same service collection, for chaining.</returns>
    public static IServiceCollection AddCircuitBreaker(this IServiceCollection services, Action<CircuitBreakerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        CircuitBreakerServices.AddCircuitBreaker(services, clientName: null);
        CircuitBreakerServices.Configure(services, clientName: null, configure);
        return services;
    }

    /// <summary>
    /// Adds a circuit breaker to every client and binds the options they share from a configuration section.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="section">The section whose keys are option names.</param>
    /// <returns>The same service collection, for chaining.</returns>
    public static IServiceCollection AddCircuitBreaker(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);

        CircuitBreakerServices.AddCircuitBreaker(services, clientName: null);
        CircuitBreakerServices.Configure(services, clientName: null, section);
        return services;
    }
}
