namespace HttpBreaker.Internal;

/// <summary>
/// One stay of a circuit in one state. Every transition swaps in a new phase, so a request that keeps a reference to the phase
/// it was admitted in can tell whether the circuit has changed since: its result counts only while that phase is
/// still current.
/// </summary>
internal sealed class CircuitPhase
{
    private int _consecutiveFailures;
    private int _probeTaken;

    private CircuitPhase(CircuitState state, int consecutiveFailures, DateTimeOffset? openedAt, DateTimeOffset? probeAt)
    {
        State = state;
        _consecutiveFailures = consecutiveFailures;
        OpenedAt = openedAt;
        ProbeAt = probeAt;
    }

    public CircuitState State { get; }

    public DateTimeOffset? OpenedAt { get; }

    /// <summary>The time from which an open phase admits a probe.</summary>
    public DateTimeOffset? ProbeAt { get; }

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>The problem details body of an open phase, built by the first rejection and reused after.</summary>
    public byte[]? RejectionBody { get; set; }

    public static CircuitPhase Closed() => new(CircuitState.Closed, 0, null, null);

    public static CircuitPhase Open(int consecutiveFailures, DateTimeOffset openedAt, DateTimeOffset probeAt) =>
        new(CircuitState.Open, consecutiveFailures, openedAt, probeAt);

    /// <summary>Creates a half-open phase whose probe slot the caller already owns.</summary>
    public static CircuitPhase HalfOpenWithProbe(CircuitPhase open) =>
        new(CircuitState.HalfOpen, open.ConsecutiveFailures, open.OpenedAt, null) { _probeTaken = 1 };

    public static CircuitPhase Isolated(int consecutiveFailures, DateTimeOffset isolatedAt) =>
        new(CircuitState.Isolated, consecutiveFailures, isolatedAt, null);

    public int AddFailure() => Interlocked.Increment(ref _consecutiveFailures);

    /// <summary>
    /// Clears the failure count. The read first keeps a stream of successes from writing to, and so contending
    /// for, a cache line that every request reads.
    /// </summary>
    public void ResetFailures()
    {
        if (Volatile.Read(ref _consecutiveFailures) != 0)
        {
            Volatile.Write(ref _consecutiveFailures, 0);
        }
    }

    public bool TryTakeProbeSlot() => Interlocked.CompareExchange(ref _probeTaken, 1, 0) == 0;

    public void ReleaseProbeSlot() => Volatile.Write(ref _probeTaken, 0);
}
