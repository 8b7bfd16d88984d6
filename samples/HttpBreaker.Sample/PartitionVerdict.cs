using System.Globalization;

namespace HttpBreaker.Sample;

/// <summary>
/// The check of a partitions run: B's circuit went closed, open, half-open and closed, A's circuit never left closed,
/// and A's upstream kept receiving requests while B's circuit was open.
/// </summary>
internal sealed class PartitionVerdict
{
    private readonly string _clientName;
    private readonly PartitionWatcher _watcher;
    private readonly IReadOnlyList<CircuitStateChangedEventArgs> _changes;

    /// <param name="clientName">The partitioned client.</param>
    /// <param name="watcher">The watcher that sent the run's requests and counted what the healthy upstream got.</param>
    /// <param name="changes">Every change that StateChanged reported during the run, oldest first.</param>
    public PartitionVerdict(string clientName, PartitionWatcher watcher, IReadOnlyList<CircuitStateChangedEventArgs> changes)
    {
        _clientName = clientName;
        _watcher = watcher;
        _changes = changes;
    }

    /// <summary>
    /// Prints what the run showed for each upstream and whether each condition held.
    /// </summary>
    /// <returns>Whether every condition held, which sets the exit code.</returns>
    public bool Report()
    {
        PartitionTarget healthy = _watcher.Healthy;
        PartitionTarget failing = _watcher.Failing;
        StateTimeline failingTimeline = BuildTimeline(failing);
        int healthyChanges = ChangesOf(healthy).Count(change => change.From != CircuitState.Closed || change.To != CircuitState.Closed);
        int sentWhileOpen = _watcher.HealthySentWhileFailingOpen;
        int receivedWhileOpen = _watcher.HealthyReceivedWhileFailingOpen;

        bool failingCycled = failingTimeline.HasFullCycle();
        bool healthyStayedClosed = healthyChanges == 0 && _watcher.HealthyNotClosed == 0;
        bool healthyKeptReceiving = sentWhileOpen > 0 && receivedWhileOpen == sentWhileOpen;

        Console.WriteLine();
        Console.WriteLine($"{failing.Label}'s circuit, from StateChanged: {failingTimeline}.");
        Console.WriteLine($"{healthy.Label}'s circuit, from StateChanged: {BuildTimeline(healthy)}.");
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{healthy.Label} returned 200 OK to {_watcher.HealthyOk} of the {_watcher.HealthySent} requests sent to it."));

        Console.WriteLine(failingCycled
            ? $"{failing.Label}'s circuit went closed -> open -> half-open -> closed."
            : $"{failing.Label}'s circuit did not go closed -> open -> half-open -> closed.");
        Console.WriteLine(healthyStayedClosed
            ? $"{healthy.Label}'s circuit never left closed."
            : string.Create(
                CultureInfo.InvariantCulture,
                $"{healthy.Label}'s circuit left closed: {healthyChanges} StateChanged events, and {_watcher.HealthyNotClosed} requests after which it was not closed or did not exist."));
        Console.WriteLine(healthyKeptReceiving
            ? string.Create(
                CultureInfo.InvariantCulture,
                $"{healthy.Label}'s upstream received all {sentWhileOpen} requests sent to it while {failing.Label}'s circuit was open.")
            : string.Create(
                CultureInfo.InvariantCulture,
                $"{healthy.Label}'s upstream received {receivedWhileOpen} of the {sentWhileOpen} requests sent to it while {failing.Label}'s circuit was open, expected all of them and at least one."));

        return failingCycled && healthyStayedClosed && healthyKeptReceiving;
    }

    /// <summary>
    /// Builds the states of one upstream's circuit from StateChanged, starting from closed, the state of every new
    /// circuit.
    /// </summary>
    private StateTimeline BuildTimeline(PartitionTarget target)
    {
        var timeline = new StateTimeline();
        timeline.Observe(CircuitState.Closed);
        foreach (CircuitStateChangedEventArgs change in ChangesOf(target))
        {
            timeline.Observe(change.From);
            timeline.Observe(change.To);
        }

        return timeline;
    }

    private IEnumerable<CircuitStateChangedEventArgs> ChangesOf(PartitionTarget target) =>
        _changes.Where(change => change.ClientName == _clientName && change.PartitionKey == target.PartitionKey);
}
