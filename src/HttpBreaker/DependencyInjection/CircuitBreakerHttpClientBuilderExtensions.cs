using HttpBreaker;
using HttpBreaker.Internal;
using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds a circuit breaker to one named <see cref="HttpClient"/>.
/// </summary>
public static class CircuitBreakerHttpClientBuilderExtensions
{
    /// <summary>
    /// Adds a circuit breaker with default options to the client: it opens after 5 consecutive failures and
    /// stays open for 30 seconds.
    /// </summary>
    /// <param name="builder">The client builder returned by <c>AddHttpClient</c>.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IHttpClientBuilder AddCircuitBreaker(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        CircuitBreakerServices.AddCircuitBreaker(builder.Services, builder.Name);
        return builder;
    }

    /// <summary>
    /// Adds a circuit breaker to the client and configures its options in code.
    /// </summary>
    /// <param name="builder">The client builder returned by <c>AddHttpClient</c>.</param>
    /// <param name="configure">Sets the options of this client. It runs after any settings for every client.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IHttpClientBuilder AddCircuitBreaker(this IHttpClientBuilder builder, Action<CircuitBreakerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);

        CircuitBreakerServices.AddCircuitBreaker(builder.Services, builder.Name);
        CircuitBreakerServices.Configure(builder.Services, builder.Name, configure);
        return builder;
    }

    /// <summary>
    /// Adds a circuit breaker to the client and binds its options from a configuration section, such as
    /// <c>{ "FailureThreshold": 3, "BreakDuration": "00:00:10" }</c>.
    /// </summary>
    /// <param name="builder">The client builder returned by <c>AddHttpClient</c>.</param>
    /// <param name="section">The section whose keys are option names.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IHttpClientBuilder AddCircuitBreaker(this IHttpClientBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);

        CircuitBreakerServices.AddCircuitBreaker(builder.Services, builder.Name);
        CircuitBreakerServices.Configure(builder.Services, builder.Name, section);
        return builder;
    }
}
