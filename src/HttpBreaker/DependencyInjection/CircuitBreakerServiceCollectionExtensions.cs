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

    /// <summary>
    /// Binds the circuit breaker options of every client from one configuration section, and applies changes to
    /// running circuits when the configuration reloads. It adds no breaker: clients still opt in with
    /// <c>AddCircuitBreaker</c>.
    /// </summary>
    /// <remarks>
    /// <para>The section contains <c>Defaults</c>, the options of every client, and <c>Clients</c>, one section per
    /// client name:</para>
    /// <code language="json">
    /// "HttpBreaker": {
    ///   "Defaults": { "BreakDuration": "00:00:30" },
    ///   "Clients": { "github": { "FailureThreshold": 3, "FailureStatusCodes": "500-599,429" } }
    /// }
    /// </code>
    /// <para>A client's own section wins over <c>Defaults</c>. Among settings of one client, code and
    /// configuration apply in registration order, so code registered after this call wins. On reload, every
    /// client's options are rebuilt and validated; valid ones reach its circuits without resetting their state,
    /// and invalid ones are logged and ignored, leaving the previous options in force.</para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="section">The section of the shape above, such as <c>builder.Configuration.GetSection("HttpBreaker")</c>.</param>
    /// <returns>The same service collection, for chaining.</returns>
    public static IServiceCollection ConfigureCircuitBreakers(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);

        CircuitBreakerServices.ConfigureFromSection(services, section);
        return services;
    }
}
