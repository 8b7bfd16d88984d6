using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace HttpBreaker.Sample;

/// <summary>
/// The default run: consecutive failures open the circuit, a probe fails while connections are refused, and a
/// probe closes the circuit once the upstream listens again.
/// </summary>
internal sealed class ConsecutiveScenario : IDemoScenario
{
    private readonly int _failureThreshold;
    private readonly TimeSpan _breakDuration;

    public ConsecutiveScenario(int failureThreshold, TimeSpan breakDuration)
    {
        _failureThreshold = failureThreshold;
        _breakDuration = breakDuration;
    }

    public TimeSpan RequestInterval { get; } = TimeSpan.FromMilliseconds(200);

    public string BreakerSettings => string.Create(
        CultureInfo.InvariantCulture,
        $"FailureThreshold {_failureThreshold}, BreakDuration {_breakDuration.TotalSeconds} s");

    public bool PrintsBreakDurations => false;

    public void ConfigureBreaker(CircuitBreakerOptions breaker)
    {
        breaker.FailureThreshold = _failureThreshold;
        breaker.BreakDuration = _breakDuration;
    }

    // Each phase lasts long enough for the circuit to react, whatever the options. The failing phase reaches the
    // threshold, and the refused and recovered phases each outlast a full break, so each of them sends a probe.
    public IReadOnlyList<DemoPhase> PlanPhases(FlakyUpstream upstream)
    {
        TimeSpan requestInterval = RequestInterval;
        return
        [
            new("healthy", "the upstream returns 200 OK", 5 * requestInterval, _ =>
            {
                upstream.RespondWith(StatusCodes.Status200OK);
                return Task.CompletedTask;
            }),
            new("failing", "the upstream returns 500 Internal Server Error", (_failureThreshold + 2) * requestInterval, _ =>
            {
                upstream.RespondWith(StatusCodes.Status500InternalServerError);
                return Task.CompletedTask;
            }),
            new("refused", $"the upstream is stopped, so connections to port {upstream.Port} are refused", _breakDuration + (3 * requestInterval), _ =>
                upstream.StopAsync()),
            new("recovered", $"the upstream listens on port {upstream.Port} again and returns 200 OK", _breakDuration + (10 * requestInterval), cancellationToken =>
            {
                upstream.RespondWith(StatusCodes.Status200OK);
                return upstream.RestartAsync(cancellationToken);
            }),
        ];
    }

    public bool ReportResult(CircuitWatcher watcher)
    {
        bool sawCycle = watcher.Timeline.HasFullCycle();
        Console.WriteLine(sawCycle
            ? "The circuit went closed -> open -> half-open -> closed."
            : "The circuit did not go closed -> open -> half-open -> closed.");
        return sawCycle;
    }
}
