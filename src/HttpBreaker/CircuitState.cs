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
    /// Up to <see cref="CircuitBreakerOptions.PermittedProbes"/> probe requests are in flight. Enough successful
    /// probes close the circuit, and one failed or timed-out probe reopens it; every other request gets a
    /// synthetic 503 meanwhile.
    /// </summary>
    HalfOpen,

    /// <summary>
    /// The circuit is held open by <see cref="ICircuitBreakerRegistry.Isolate(string)"/> and stays open
    /// until <see cref="ICircuitBreakerRegistry.Reset(string)"/> closes it.
    /// </summary>
    Isolated,
}
