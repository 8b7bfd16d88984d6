namespace HttpBreaker;

/// <summary>
/// Why a circuit changed state.
/// </summary>
public enum CircuitTransitionReason
{
    /// <summary>Consecutive failures reached <see cref="CircuitBreakerOptions.FailureThreshold"/>.</summary>
    FailureThreshold,

    /// <summary>The failure ratio over the sampling window reached <see cref="CircuitBreakerOptions.FailureRatio"/>.</summary>
    FailureRatio,

    /// <summary>The break ended and a request became a probe.</summary>
    BreakElapsed,

    /// <summary>Enough probes succeeded to close the circuit.</summary>
    ProbeSucceeded,

    /// <summary>A probe failed and the circuit reopened.</summary>
    ProbeFailed,

    /// <summary>A probe ran past <see cref="CircuitBreakerOptions.ProbeTimeout"/> and the circuit reopened.</summary>
    ProbeTimedOut,

    /// <summary>An operator called <see cref="ICircuitBreakerRegistry.Isolate(string)"/> or <see cref="ICircuitBreakerRegistry.Reset(string)"/>.</summary>
    Manual,

    /// <summary>The registry dropped the circuit to stay within its bound or because it was idle; its next request starts closed.</summary>
    Evicted,
}
