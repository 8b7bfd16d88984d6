namespace HttpBreaker;

/// <summary>
/// How one request's result counts towards its circuit.
/// </summary>
public enum CircuitBreakerOutcome
{
    /// <summary>The upstream is healthy: resets the consecutive count and counts as a success in the ratio window.</summary>
    Success,

    /// <summary>The upstream failed: counts towards every trip rule, and a failed probe reopens the circuit.</summary>
    Failure,

    /// <summary>
    /// Carries no information about the upstream's health while closed: counts in no rule and resets nothing. A
    /// probe with this outcome still shows that the upstream responds, so it counts as a successful probe.
    /// </summary>
    Ignored,
}
