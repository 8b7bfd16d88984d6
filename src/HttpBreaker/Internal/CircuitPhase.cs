namespace HttpBreaker.Internal;

/// <summary>
/// One stay of a circuit in one state. Every transition swaps in a new phase, so a request that keeps a reference
/// to the phase it was admitted in can tell whether the circuit has changed since: its result counts only while
/// that phase is still current.
/// </summary>
internal abstract class CircuitPhase
{
    protected CircuitPhase(CircuitState state, DateTimeOffset? openedAt, DateTimeOffset? probeAt)
    {
        State = state;
        OpenedAt = openedAt;
        ProbeAt = probeAt;
    }

    public CircuitState State { get; }

    public DateTimeOffset? OpenedAt { get; }

    /// <summary>Gets the time from which an open phase admits a probe.</summary>
    public DateTimeOffset? ProbeAt { get; }

    public abstract int ConsecutiveFailures { get; }

    /// <summary>Gets or sets the problem details body of a rejecting phase, built by the first rejection and reused after.</summary>
    public byte[]? RejectionBody { get; set; }
}
