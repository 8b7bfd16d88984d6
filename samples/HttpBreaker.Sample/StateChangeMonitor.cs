using System.Diagnostics;

namespace HttpBreaker.Sample;

/// <summary>
/// A <see cref="ICircuitBreakerRegistry.StateChanged"/> handler that prints each change as a <c>&gt;&gt;</c> line as
/// soon as it arrives and keeps every change for the verdict.
/// </summary>
/// <remarks>
/// The registry calls the handler on its own background task, one change at a time and in order, so a change can
/// print between the request lines of the run. Each line is a single <see cref="Console.WriteLine(string)"/> call on
/// the synchronized <see cref="Console.Out"/>, so lines from the two tasks never mix.
/// </remarks>
internal sealed class StateChangeMonitor : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly ICircuitBreakerRegistry _registry;
    private readonly DateTimeOffset _origin;
    private readonly Lock _changesLock = new();
    private readonly List<CircuitStateChangedEventArgs> _changes = [];

    /// <param name="registry">The registry to subscribe to until <see cref="Dispose"/>.</param>
    /// <param name="origin">The time that printed times count from, on the registry's clock, which is <see cref="TimeProvider.System"/> in the sample.</param>
    public StateChangeMonitor(ICircuitBreakerRegistry registry, DateTimeOffset origin)
    {
        _registry = registry;
        _origin = origin;
        _registry.StateChanged += OnStateChanged;
    }

    /// <summary>A copy of the changes received so far, oldest first.</summary>
    public IReadOnlyList<CircuitStateChangedEventArgs> Changes
    {
        get
        {
            lock (_changesLock)
            {
                return [.. _changes];
            }
        }
    }

    /// <summary>
    /// Waits until the last change received for each circuit leaves it in the state its snapshot shows.
    /// </summary>
    /// <remarks>
    /// A change can still be queued in the registry when the request that caused it has returned, and the registry
    /// offers no way to wait for its queue. Once no request is in flight, no circuit changes state, so the changes
    /// received catch up with the snapshots.
    /// </remarks>
    /// <returns><see langword="false"/> when some change had not arrived after <paramref name="timeout"/>.</returns>
    public async Task<bool> WaitForStatesAsync(IReadOnlyList<CircuitSnapshot> snapshots, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (!snapshots.All(snapshot => GetLastState(snapshot.Name) == snapshot.State))
        {
            if (waited.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(PollInterval);
        }

        return true;
    }

    public void Dispose() => _registry.StateChanged -= OnStateChanged;

    /// <summary>
    /// Returns the state that the changes received so far leave a circuit in. A circuit without changes is closed,
    /// because every circuit starts closed.
    /// </summary>
    private CircuitState GetLastState(string circuitName)
    {
        lock (_changesLock)
        {
            for (int i = _changes.Count - 1; i >= 0; i--)
            {
                if (_changes[i].CircuitName == circuitName)
                {
                    return _changes[i].To;
                }
            }
        }

        return CircuitState.Closed;
    }

    private void OnStateChanged(object? sender, CircuitStateChangedEventArgs change)
    {
        string time = PartitionWatcher.FormatTime(change.Timestamp - _origin);
        string states = $"{StateTimeline.Format(change.From)} -> {StateTimeline.Format(change.To)}";
        Console.WriteLine($"{time,8}  >> {change.CircuitName}: {states} ({change.Reason})");

        lock (_changesLock)
        {
            _changes.Add(change);
        }
    }
}
