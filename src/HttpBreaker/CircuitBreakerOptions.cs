using HttpBreaker.Internal;

namespace HttpBreaker;

/// <summary>
/// Settings of the circuit breaker of one named client.
/// </summary>
/// <remarks>
/// Options are named after the client, so <c>services.Configure&lt;CircuitBreakerOptions&gt;("github", ...)</c>
/// configures the client named <c>github</c>. They are validated when the client is first created, or at host
/// start when the host validates options on start, and invalid values raise an
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> that names the client, the option,
/// the value and the allowed range.
/// </remarks>
public sealed class CircuitBreakerOptions
{
    /// <summary>
    /// Gets or sets the number of consecutive failures that opens a closed circuit.
    /// </summary>
    /// <value>Default 5. Allowed range: 1 to <see cref="int.MaxValue"/>.</value>
    /// <remarks>
    /// A failure is a 5xx response or an exception from the inner handler, except a cancellation requested
    /// by the caller. A 2xx or 3xx response resets the count; a 4xx response neither counts nor resets it.
    /// </remarks>
    public int FailureThreshold { get; set; } = CircuitBreakerDefaults.FailureThreshold;

    /// <summary>
    /// Gets or sets how long an open circuit rejects requests before it lets one probe through.
    /// </summary>
    /// <value>Default 30 seconds. Allowed range: more than zero, up to one day.</value>
    public TimeSpan BreakDuration { get; set; } = CircuitBreakerDefaults.BreakDuration;
}
