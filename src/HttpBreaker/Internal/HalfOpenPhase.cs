namespace HttpBreaker.Internal;

/// <summary>
/// A half-open circuit: a fixed number of probe slots, each holding the start timestamp of the probe in it, and
/// the count of successful probes.
/// </summary>
internal sealed class HalfOpenPhase : CircuitPhase
{
    private const long FreeSlot = 0;

    private readonly long[] _probeStarts;
    private int _successes;

    public HalfOpenPhase(OpenPhase open, int permittedProbes)
        : base(CircuitState.HalfOpen, open.OpenedAt, null)
    {
        ConsecutiveFailures = open.ConsecutiveFailures;
        BaseBreak = open.BaseBreak;
        _probeStarts = new long[permittedProbes];
    }

    public override int ConsecutiveFailures { get; }

    /// <inheritdoc cref="OpenPhase.BaseBreak"/>
    public TimeSpan BaseBreak { get; }

    /// <summary>
    /// Takes a free probe slot for a probe that starts at <paramref name="startTimestamp"/>.
    /// </summary>
    /// <returns>The slot index, or -1 when every slot is taken.</returns>
    public int TryTakeSlot(long startTimestamp)
    {
        // Zero marks a free slot, so a timestamp of zero is stored as one tick later.
        long start = Math.Max(1, startTimestamp);
        for (int slot = 0; slot < _probeStarts.Length; slot++)
        {
            if (Interlocked.CompareExchange(ref _probeStarts[slot], start, FreeSlot) == FreeSlot)
            {
                return slot;
            }
        }

        return -1;
    }

    /// <summary>Frees a slot, unless it has been freed and taken again since the probe in it started.</summary>
    public void ReleaseSlot(int slot, long startTimestamp) =>
        Interlocked.CompareExchange(ref _probeStarts[slot], FreeSlot, Math.Max(1, startTimestamp));

    public int AddSuccess() => Interlocked.Increment(ref _successes);

    /// <summary>
    /// Returns the start of the oldest probe in flight, or <see langword="null"/> when no probe is in flight.
    /// </summary>
    public long? GetOldestProbeStart()
    {
        long? oldest = null;
        foreach (ref long start in _probeStarts.AsSpan())
        {
            long value = Volatile.Read(ref start);
            if (value != FreeSlot && (oldest is null || value < oldest))
            {
                oldest = value;
            }
        }

        return oldest;
    }
}
