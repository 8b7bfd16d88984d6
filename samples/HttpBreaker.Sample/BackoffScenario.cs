using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace HttpBreaker.Sample;

/// <summary>
/// A run in which each failed probe doubles the break up to a maximum, a successful probe closes the circuit, and
/// the next opening starts again from the base break.
/// </summary>
internal sealed class BackoffScenario : IDemoScenario
{
    private const double BreakDurationMultiplier = 2;
    private const int FailedProbes = 3;
    private static readonly TimeSpan MaxBreakDuration = TimeSpan.FromSeconds(4);

    // The snapshot's OpenedAt and NextProbeAt are exact, so the tolerance only absorbs rounding to ticks.
    private static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(1);

    private readonly int _failureThreshold;
    private readonly TimeSpan _breakDuration;

    public BackoffScenario(int failureThreshold, TimeSpan breakDuration)
    {
        _failureThreshold = failureThreshold;
        _breakDuration = breakDuration;
    }

    public TimeSpan RequestInterval { get; } = TimeSpan.FromMilliseconds(200);

    public string BreakerSettings => string.Create(
        CultureInfo.InvariantCulture,
        $"FailureThreshold {_failureThreshold}, BreakDuration {_breakDuration.TotalSeconds} s, "
            + $"BreakDurationMultiplier {BreakDurationMultiplier}, MaxBreakDuration {MaxBreakDuration.TotalSeconds} s");

    public bool PrintsBreakDurations => true;

    public void ConfigureBreaker(CircuitBreakerOptions breaker)
    {
        breaker.FailureThreshold = _failureThreshold;
        breaker.BreakDuration = _breakDuration;
        breaker.BreakDurationMultiplier = BreakDurationMultiplier;
        breaker.MaxBreakDuration = MaxBreakDuration;
    }

    // A probe goes out at the first request after its break, so each probe can come up to one interval late. The
    // failing phase ends at least one interval after the latest time of the third failed probe. The fourth break,
    // at least 1.6 s because --break is at least 0.2 s, ends after that, so its probe finds the upstream healthy.
    // The second burst has exactly enough requests to open the circuit, so its probe always lands in the last phase.
    //
    // Every phase lasts a whole number of intervals. The runner ends a phase half an interval early, so a phase end
    // between two requests, as a break of 0.5 s would make it, leaves the last request of the phase to timer jitter.
    public IReadOnlyList<DemoPhase> PlanPhases(FlakyUpstream upstream)
    {
        TimeSpan interval = RequestInterval;
        TimeSpan opening = _failureThreshold * interval;
        List<TimeSpan> breaks = ExpectedBreaks(FailedProbes + 1);
        TimeSpan failedProbeBreaks = RoundUpToInterval(breaks.Take(FailedProbes).Aggregate(TimeSpan.Zero, (total, duration) => total + duration));

        return
        [
            new("healthy", "the upstream returns 200 OK", 5 * interval,
                _ => RespondWith(upstream, StatusCodes.Status200OK)),
            new("failing", $"the upstream returns 500 Internal Server Error, long enough for {FailedProbes} probes to fail",
                opening + failedProbeBreaks + ((FailedProbes + 1) * interval),
                _ => RespondWith(upstream, StatusCodes.Status500InternalServerError)),
            new("recovered", "the upstream returns 200 OK, so the next probe closes the circuit",
                RoundUpToInterval(breaks[FailedProbes]) + (3 * interval),
                _ => RespondWith(upstream, StatusCodes.Status200OK)),
            new("failing again", $"the upstream returns 500 for {_failureThreshold} requests, which open the circuit again",
                opening,
                _ => RespondWith(upstream, StatusCodes.Status500InternalServerError)),
            new("recovered again", "the upstream returns 200 OK", RoundUpToInterval(_breakDuration) + (4 * interval),
                _ => RespondWith(upstream, StatusCodes.Status200OK)),
        ];
    }

    public bool ReportResult(CircuitWatcher watcher)
    {
        IReadOnlyList<OpenPeriod> periods = OpenPeriod.Collect(watcher.History);
        List<TimeSpan> expected = ExpectedBreaks(FailedProbes + 1);
        IReadOnlyList<TimeSpan> firstBreaks = periods.Count > 0 ? periods[0].Breaks : [];
        TimeSpan? breakAfterClose = periods.Count > 1 && periods[0].WasClosed ? periods[1].Breaks[0] : null;

        // More breaks than planned can only come from a late upstream recovery, and they must still follow the rule.
        bool grew = firstBreaks.Count >= expected.Count
            && firstBreaks.Zip(ExpectedBreaks(firstBreaks.Count)).All(pair => IsClose(pair.First, pair.Second));
        bool wasReset = breakAfterClose is { } reset && IsClose(reset, _breakDuration);

        string after = breakAfterClose is { } shown ? CircuitWatcher.FormatSeconds(shown) : "none";
        Console.WriteLine($"Breaks until the first close: {FormatBreaks(firstBreaks)}, expected {FormatBreaks(expected)}.");
        Console.WriteLine($"First break after that close: {after}, expected {CircuitWatcher.FormatSeconds(_breakDuration)}.");
        Console.WriteLine(grew
            ? $"Each failed probe multiplied the break by {BreakDurationMultiplier}, up to MaxBreakDuration."
            : $"The breaks did not grow by BreakDurationMultiplier {BreakDurationMultiplier} over {FailedProbes} failed probes.");
        Console.WriteLine(wasReset
            ? "A probe closed the circuit, and the next opening started again from BreakDuration."
            : "The circuit did not close and then reopen with the break back at BreakDuration.");
        return grew && wasReset;
    }

    /// <summary>
    /// Computes the first <paramref name="count"/> breaks of an open period whose probes all fail, as
    /// docs/behavior.md describes them: BreakDuration, then each break multiplied and capped at MaxBreakDuration.
    /// </summary>
    private List<TimeSpan> ExpectedBreaks(int count)
    {
        var breaks = new List<TimeSpan>(count);
        TimeSpan current = _breakDuration;
        for (int i = 0; i < count; i++)
        {
            breaks.Add(current);
            current = current * BreakDurationMultiplier < MaxBreakDuration ? current * BreakDurationMultiplier : MaxBreakDuration;
        }

        return breaks;
    }

    private TimeSpan RoundUpToInterval(TimeSpan duration)
    {
        long intervals = (duration.Ticks + RequestInterval.Ticks - 1) / RequestInterval.Ticks;
        return intervals * RequestInterval;
    }

    private static bool IsClose(TimeSpan actual, TimeSpan expected) => (actual - expected).Duration() <= Tolerance;

    private static string FormatBreaks(IEnumerable<TimeSpan> breaks)
    {
        string joined = string.Join(" -> ", breaks.Select(CircuitWatcher.FormatSeconds));
        return joined.Length == 0 ? "none" : joined;
    }

    private static Task RespondWith(FlakyUpstream upstream, int statusCode)
    {
        upstream.RespondWith(statusCode);
        return Task.CompletedTask;
    }
}
