namespace HttpBreaker.Sample;

/// <summary>
/// The breaks of one open period of a circuit: from an opening, through each reopening after a failed probe, to
/// the probe that closes it.
/// </summary>
internal sealed class OpenPeriod
{
    private readonly List<TimeSpan> _breaks = [];

    private OpenPeriod()
    {
    }

    /// <summary>The break that each opening and reopening started, oldest first. The first is the opening's.</summary>
    public IReadOnlyList<TimeSpan> Breaks => _breaks;

    /// <summary>Whether a probe closed the circuit at the end of the period.</summary>
    public bool WasClosed { get; private set; }

    /// <summary>
    /// Splits a run's events into open periods, oldest first. Events before the first opening are skipped.
    /// </summary>
    public static IReadOnlyList<OpenPeriod> Collect(IEnumerable<BreakerEvent> history)
    {
        var periods = new List<OpenPeriod>();
        foreach (BreakerEvent breakerEvent in history)
        {
            switch (breakerEvent.EventId)
            {
                case BreakerEventIds.Opened or BreakerEventIds.OpenedByRatio:
                    periods.Add(new OpenPeriod());
                    periods[^1].AddBreak(breakerEvent);
                    break;
                case BreakerEventIds.ProbeFailed or BreakerEventIds.ProbeTimedOut when periods.Count > 0:
                    periods[^1].AddBreak(breakerEvent);
                    break;
                case BreakerEventIds.Closed when periods.Count > 0:
                    periods[^1].WasClosed = true;
                    break;
            }
        }

        return periods;
    }

    // A break the snapshot could not show is kept as 0 s, so that it fails a comparison instead of shifting the
    // breaks after it.
    private void AddBreak(BreakerEvent breakerEvent) => _breaks.Add(breakerEvent.BreakDuration ?? TimeSpan.Zero);
}
