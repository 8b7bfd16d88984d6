namespace HttpBreaker.Internal;

/// <summary>
/// What a request carries from admission to its outcome: the phase that admitted it, its probe slot when it is a
/// probe, and its start timestamp when anything needs its duration.
/// </summary>
internal readonly struct Admission(CircuitPhase phase, int probeSlot, long startTimestamp)
{
    public CircuitPhase Phase { get; } = phase;

    /// <summary>Gets the probe slot of a probe, or -1 for a request admitted while closed.</summary>
    public int ProbeSlot { get; } = probeSlot;

    /// <summary>Gets the <see cref="TimeProvider.GetTimestamp"/> reading at admission, or 0 when it was not read.</summary>
    public long StartTimestamp { get; } = startTimestamp;
}
