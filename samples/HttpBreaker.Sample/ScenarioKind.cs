namespace HttpBreaker.Sample;

/// <summary>
/// The built-in runs that <c>--scenario</c> selects, each showing one rule of the breaker.
/// </summary>
internal enum ScenarioKind
{
    /// <summary>Consecutive failures open the circuit, and a probe closes it once the upstream recovers.</summary>
    Consecutive,

    /// <summary>The share of failures over the sampling window opens the circuit, with the consecutive rule off.</summary>
    Ratio,

    /// <summary>Each failed probe doubles the break up to a maximum, and a close resets it.</summary>
    Backoff,

    /// <summary>
    /// A client partitioned by authority sends to a healthy and a failing upstream: only the failing one's circuit
    /// opens, and the healthy one keeps getting requests.
    /// </summary>
    Partitions,
}
