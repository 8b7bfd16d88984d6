namespace HttpBreaker.Internal;

/// <summary>
/// An open circuit, rejecting every request until <see cref="CircuitPhase.ProbeAt"/>.
/// </summary>
internal sealed class OpenPhase : CircuitPhase
{
    public OpenPhase(int consecutiveFailures, DateTimeOffset openedAt, DateTimeOffset probeAt, TimeSpan baseBreak)
        : base(CircuitState.Open, openedAt, probeAt)
    {
        ConsecutiveFailures = consecutiveFailures;
        BaseBreak = baseBreak;
    }

    public override int ConsecutiveFailures { get; }

    /// <summary>
    /// Gets the break before jitter and <c>Retry-After</c>, which the next reopening multiplies.
    /// </summary>
    public TimeSpan BaseBreak { get; }
}
