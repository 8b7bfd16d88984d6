using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace HttpBreaker.Sample;

/// <summary>
/// A run in which the failure ratio opens the circuit although failures never come three in a row: the upstream
/// returns 500, 500, 200 in turn, and the consecutive rule is off.
/// </summary>
internal sealed class RatioScenario : IDemoScenario
{
    private const double FailureRatio = 0.5;
    private const int MinimumThroughput = 10;
    private static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(2);

    private readonly TimeSpan _breakDuration;

    public RatioScenario(TimeSpan breakDuration)
    {
        _breakDuration = breakDuration;
    }

    // The window sums its ten buckets of 200 ms, the current one included, so it spans 1.8 to 2 s. At one request
    // per 200 ms it would contain 9 or 10 outcomes and reach MinimumThroughput only by luck. At one request per
    // 100 ms it contains 18 to 20.
    public TimeSpan RequestInterval { get; } = TimeSpan.FromMilliseconds(100);

    public string BreakerSettings => string.Create(
        CultureInfo.InvariantCulture,
        $"FailureThreshold 0 (off), FailureRatio {FailureRatio}, MinimumThroughput {MinimumThroughput}, "
            + $"SamplingDuration {SamplingDuration.TotalSeconds} s, BreakDuration {_breakDuration.TotalSeconds} s");

    public bool PrintsBreakDurations => false;

    public void ConfigureBreaker(CircuitBreakerOptions breaker)
    {
        breaker.FailureThreshold = 0;
        breaker.FailureRatio = FailureRatio;
        breaker.MinimumThroughput = MinimumThroughput;
        breaker.SamplingDuration = SamplingDuration;
        breaker.BreakDuration = _breakDuration;
    }

    // The healthy phase outlasts the window, so the window is full of successes when failures start. Two failures
    // in every three requests then reach half of the window after about 14 requests, well within the mixed phase.
    // A short break can end while the mixed phase still runs, and a probe that fails there reopens the circuit.
    // The recovered phase outlasts a full break, so its probe closes the circuit whatever --break is.
    public IReadOnlyList<DemoPhase> PlanPhases(FlakyUpstream upstream)
    {
        return
        [
            new("healthy", "the upstream returns 200 OK", TimeSpan.FromSeconds(3),
                _ => RespondWith(upstream, StatusCodes.Status200OK)),
            new("mixed", "the upstream returns 500, 500, 200 in turn, so 2 in 3 requests fail but never 3 in a row",
                TimeSpan.FromSeconds(3),
                _ => RespondWith(upstream, StatusCodes.Status500InternalServerError, StatusCodes.Status500InternalServerError, StatusCodes.Status200OK)),
            new("recovered", "the upstream returns 200 OK", _breakDuration + TimeSpan.FromSeconds(1),
                _ => RespondWith(upstream, StatusCodes.Status200OK)),
        ];
    }

    public bool ReportResult(CircuitWatcher watcher)
    {
        bool sawCycle = HasRatioCycle(watcher.History);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"At most {watcher.MaxConsecutiveFailures} failures came in a row, and FailureThreshold 0 turned the consecutive rule off."));
        Console.WriteLine(sawCycle
            ? "The circuit went closed -> open (by the failure ratio) -> half-open -> closed."
            : "The circuit did not go closed -> open (by the failure ratio) -> half-open -> closed.");
        return sawCycle;
    }

    /// <summary>
    /// Returns whether the failure ratio opened the circuit and a probe then closed it. A failed probe in between
    /// reopens the circuit, and the search goes on to the next probe.
    /// </summary>
    private static bool HasRatioCycle(IReadOnlyList<BreakerEvent> history)
    {
        int step = 0;
        foreach (BreakerEvent breakerEvent in history)
        {
            step = (step, breakerEvent.EventId) switch
            {
                (0, BreakerEventIds.OpenedByRatio) => 1,
                (1, BreakerEventIds.HalfOpen) => 2,
                (2, BreakerEventIds.Closed) => 3,
                (2, _) => 1,
                _ => step,
            };
        }

        return step == 3;
    }

    private static Task RespondWith(FlakyUpstream upstream, params int[] statusCodes)
    {
        upstream.RespondWith(statusCodes);
        return Task.CompletedTask;
    }
}
