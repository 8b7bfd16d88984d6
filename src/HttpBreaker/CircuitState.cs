namespace HttpBreaker;

/// <summary>
/// The state of one circuit.
/// </summary>
public enum CircuitState
{
    /// <summary>Requests pass through to the upstream and their outcomes are counted.</summary>
    Closed,

    /// <summary>
    /// Requests are not sent. The handler returns a synthetic 503 for each one until the break ends
    /// and the next request becomes the probe.
    /// </summary>
    Open,

    /// <summary>
    /// One probe request is in flight. Its outcome closes or reopens the circuit, and every other
    /// request gets a synthetic 503 meanwhile.
    /// </summary>
    HalfOpen,

    /// <summary>
    /// The circuit is held open by <see cref="ICircuitBreakerRegistry.Isolate(string)"/> and stays open
    /// until <see cref="ICircuitBreakerRegistry.Reset(string)"/> closes it.
    /// </summary>
    Isolated,
}
