namespace HttpBreaker.Internal;

/// <summary>
/// An open circuit, rejecting every request until <see cref="CircuitPhase.ProbeAt"/>.
/// </summary>
internal sealed class OpenPhase : CircuitPhase
{
    public OpenPhase(int consecutiveFailures, DateTimeOffset openedAt, DateTimeOffset probeAt, long probeAtTimestamp, TimeSpan baseBreak)
        : base(CircuitState.Open, openedAt, probeAt)
    {
        ConsecutiveFailures = consecutiveFailures;
        ProbeAtTimestamp = probeAtTimestamp;
        BaseBreak = baseBreak;
    }

    public override int ConsecutiveFailures { get; }

    /// <summary>
    /// Gets the <see cref="TimeProvider.GetTimestamp"/> reading from which a probe is admitted. The break is timed on
    /// this monotonic clock, so a wall-clock correction neither shortens nor stretches it; <see cref="CircuitPhase.ProbeAt"/>
    /// is the same moment in wall-clock time, for snapshots and response bodies.
    /// </summary>
    public long ProbeAtTimestamp { get; }

    /// <summary>
    /// Gets the break before jitter and <c>Retry-After</c>, which the next reopening multiplies.
    /// </summary>
    public TimeSpan BaseBreak { get; }
}
