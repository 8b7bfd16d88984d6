using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HttpBreaker.Sample;

/// <summary>
/// A logging provider that stores the state changes the circuit breaker logs, so that the sample can print them
/// between its request lines. It ignores every other log category.
/// </summary>
internal sealed class TransitionRecorder : ILoggerProvider, ILogger
{
    /// <summary>The category the HttpBreaker library logs under.</summary>
    public const string Category = "HttpBreaker.CircuitBreaker";

    private readonly ConcurrentQueue<CircuitTransition> _transitions = new();

    public ILogger CreateLogger(string categoryName) =>
        categoryName == Category ? this : NullLogger.Instance;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // The library declares its event ids stable in its Log class, so they identify a transition more safely
        // than the message text.
        CircuitTransition? transition = eventId.Id switch
        {
            1 => new(CircuitState.Open, DescribeOpened(FindValue(state, "ConsecutiveFailures"))),
            2 => new(CircuitState.Open, "circuit reopened because the probe failed"),
            3 => new(CircuitState.HalfOpen, "circuit half-open: the break ended and the request above was the probe"),
            4 => new(CircuitState.Closed, "circuit closed because the probe succeeded"),
            5 => new(CircuitState.Isolated, "circuit isolated until it is reset"),
            6 => new(CircuitState.Closed, "circuit reset to closed"),
            _ => null,
        };

        if (transition is not null)
        {
            _transitions.Enqueue(transition);
        }
    }

    /// <summary>
    /// Removes and returns the transitions recorded since the previous call, oldest first.
    /// </summary>
    public IReadOnlyList<CircuitTransition> TakeRecorded()
    {
        var recorded = new List<CircuitTransition>();
        while (_transitions.TryDequeue(out CircuitTransition? transition))
        {
            recorded.Add(transition);
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
