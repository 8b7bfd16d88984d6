using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HttpBreaker.Sample;

/// <summary>
/// A logging provider that stores the state changes, attempt timeouts and classifier errors that the circuit
/// breaker logs, so that the sample can print them between its request lines. It ignores every other log category.
/// </summary>
internal sealed class TransitionRecorder : ILoggerProvider, ILogger
{
    /// <summary>The category the HttpBreaker library logs under.</summary>
    public const string Category = "HttpBreaker.CircuitBreaker";

    private readonly ConcurrentQueue<BreakerEvent> _events = new();

    public ILogger CreateLogger(string categoryName) =>
        categoryName == Category ? this : NullLogger.Instance;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // The library declares its event ids stable in its Log class, so they identify an event more safely than
        // the message text. Event 7, a rejected request, is left out because the request line already shows it.
        BreakerEvent? breakerEvent = eventId.Id switch
        {
            BreakerEventIds.Opened => new(eventId.Id, CircuitState.Open, DescribeOpened(FindValue(state, "ConsecutiveFailures"))),
            BreakerEventIds.ProbeFailed => new(eventId.Id, CircuitState.Open, "circuit reopened because the probe failed"),
            BreakerEventIds.HalfOpen => new(eventId.Id, CircuitState.HalfOpen, "circuit half-open: the break ended and the request above was the probe"),
            BreakerEventIds.Closed => new(eventId.Id, CircuitState.Closed, "circuit closed because the probe succeeded"),
            BreakerEventIds.Isolated => new(eventId.Id, CircuitState.Isolated, "circuit isolated until it is reset"),
            BreakerEventIds.Reset => new(eventId.Id, CircuitState.Closed, "circuit reset to closed"),
            BreakerEventIds.OpenedByRatio => new(eventId.Id, CircuitState.Open,
                $"circuit opened: {FindValue(state, "Failures")} failures in {FindValue(state, "Throughput")} requests over {FindValue(state, "SamplingDuration")}"),
            BreakerEventIds.ProbeTimedOut => new(eventId.Id, CircuitState.Open,
                $"circuit reopened because a probe ran past the probe timeout of {FindValue(state, "ProbeTimeout")}"),
            BreakerEventIds.AttemptTimedOut => new(eventId.Id, null,
                $"the breaker cancelled a request that ran past its timeout of {FindValue(state, "Timeout")}"),
            BreakerEventIds.ClassifierFailed => new(eventId.Id, null,
                $"the outcome classifier threw {exception?.GetType().Name ?? "an exception"}, so the default rules classified the outcome"),
            _ => null,
        };

        if (breakerEvent is not null)
        {
            _events.Enqueue(breakerEvent);
        }
    }

    /// <summary>
    /// Removes and returns the events recorded since the previous call, oldest first.
    /// </summary>
    public IReadOnlyList<BreakerEvent> TakeRecorded()
    {
        var recorded = new List<BreakerEvent>();
        while (_events.TryDequeue(out BreakerEvent? breakerEvent))
        {
            recorded.Add(breakerEvent);
        }

        return recorded;
    }

    public void Dispose()
    {
    }

    private static string DescribeOpened(object? failures) =>
        failures is 1 ? "circuit opened after 1 failure" : $"circuit opened after {failures} consecutive failures";

    private static object? FindValue<TState>(TState state, string key)
    {
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            foreach (KeyValuePair<string, object?> pair in values)
            {
                if (pair.Key == key)
                {
                    return pair.Value;
                }
            }
        }

        return "?";
    }
}
