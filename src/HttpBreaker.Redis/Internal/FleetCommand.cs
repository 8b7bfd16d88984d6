namespace HttpBreaker.Redis.Internal;

/// <summary>
/// One piece of Redis work for a client's background loop, which runs them in the order they were queued.
/// </summary>
internal readonly record struct FleetCommand(FleetCommandKind Kind, string CircuitName = "", FleetBreak Break = default);

/// <summary>
/// The kinds of <see cref="FleetCommand"/>; the name in lower case tags the coordination failure metric.
/// </summary>
internal enum FleetCommandKind
{
    /// <summary>Subscribe if needed, resend unsent manual changes, then read every circuit of the client.</summary>
    RefreshAll,

    /// <summary>Read one circuit after a change was published.</summary>
    Refresh,

    /// <summary>Report that the local circuit opened, toward the quorum.</summary>
    Trip,

    /// <summary>Compete for the probe lease after the local break ended.</summary>
    AcquireProbe,

    /// <summary>Report the result of the probe this instance sent under the lease.</summary>
    ProbeSucceeded,

    /// <inheritdoc cref="ProbeSucceeded"/>
    ProbeFailed,

    /// <summary>Isolate the circuit on every instance.</summary>
    Isolate,

    /// <summary>Reset the circuit on every instance.</summary>
    Reset,
}
