namespace HttpBreaker.FleetSample;

/// <summary>
/// The three phases of the run, healthy, failing and recovered, and the verdict on what the fleet did in them.
/// </summary>
internal sealed class FleetRun(IReadOnlyList<SampleInstance> instances, SwitchableUpstream upstream, FleetTimeline timeline)
{
    private static readonly TimeSpan RequestInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan StatesInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs the phases and prints the verdict.</summary>
    /// <returns><see langword="true"/> when every instance opened after one instance's failures, exactly one probed, and all closed.</returns>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        timeline.Phase("healthy: the upstream returns 200 and every instance sends a request every 100 ms");
        await SendAsync(instances, TimeSpan.FromSeconds(1.5), done: null, cancellationToken);

        timeline.Phase("failing: the upstream returns 500 and only instance 1 sends");
        upstream.Failing = true;
        int failingStart = timeline.Changes.Count;
        bool allOpened = await SendAsync([instances[0]], TimeSpan.FromSeconds(10), () => instances.All(instance => instance.State == CircuitState.Open), cancellationToken);

        timeline.Phase("recovered: the upstream returns 200 and every instance sends again");
        upstream.Failing = false;
        int recoveryStart = timeline.Changes.Count;
        bool allClosed = await SendAsync(instances, TimeSpan.FromSeconds(15), () => instances.All(instance => instance.State == CircuitState.Closed), cancellationToken);

        // StateChanged delivers from a background task, so the last changes may still be on their way.
        await WaitForChangesAsync(() => CountChanges(recoveryStart, CircuitState.Closed) >= instances.Count, cancellationToken);

        return Judge(allOpened, allClosed, failingStart, recoveryStart);
    }

    /// <summary>
    /// Sends from each of <paramref name="senders"/> every 100 ms and prints all states every 500 ms, until
    /// <paramref name="done"/> returns true or <paramref name="limit"/> has passed.
    /// </summary>
    /// <returns>Whether <paramref name="done"/> returned true; <see langword="true"/> when there is no condition.</returns>
    private async Task<bool> SendAsync(IReadOnlyList<SampleInstance> senders, TimeSpan limit, Func<bool>? done, CancellationToken cancellationToken)
    {
        DateTime end = DateTime.UtcNow + limit;
        DateTime nextStates = DateTime.UtcNow;
        while (DateTime.UtcNow < end)
        {
            if (done?.Invoke() == true)
            {
                timeline.States(instances, upstream.Received);
                return true;
            }

            foreach (SampleInstance sender in senders)
            {
                await sender.SendAsync(cancellationToken);
            }

            if (DateTime.UtcNow >= nextStates)
            {
                timeline.States(instances, upstream.Received);
                nextStates = DateTime.UtcNow + StatesInterval;
            }

            await Task.Delay(RequestInterval, cancellationToken);
        }

        timeline.States(instances, upstream.Received);
        return done is null;
    }

    private static async Task WaitForChangesAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < 50 && !condition(); attempt++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    private int CountChanges(int from, CircuitState to) => timeline.Changes.Skip(from).Count(entry => entry.Change.To == to);

    private bool Judge(bool allOpened, bool allClosed, int failingStart, int recoveryStart)
    {
        var openedBy = timeline.Changes.Skip(failingStart).Take(recoveryStart - failingStart)
            .Where(entry => entry.Change.To == CircuitState.Open)
            .Select(entry => entry.Instance)
            .Distinct()
            .Order()
            .ToList();
        var probers = timeline.Changes.Skip(recoveryStart)
            .Where(entry => entry.Change.To == CircuitState.HalfOpen)
            .Select(entry => entry.Instance)
            .ToList();

        bool othersOpened = allOpened && openedBy.Contains(2) && openedBy.Contains(3);
        bool oneProbe = probers.Count == 1;

        Console.WriteLine();
        Console.WriteLine(othersOpened
            ? "Instances 2 and 3 opened without sending a request to the failing upstream."
            : $"Instances 2 and 3 did not both open (opened: {string.Join(", ", openedBy)}); is Redis reachable, and do the instances share its key prefix?");
        Console.WriteLine(oneProbe
            ? $"Instance {probers[0]} alone went half-open and probed for the fleet."
            : $"Expected one instance to go half-open during recovery, saw {probers.Count} ({string.Join(", ", probers)}).");
        Console.WriteLine(allClosed ? "Every instance closed after the probe succeeded." : "Not every instance closed within 15 s of the recovery.");
        return othersOpened && oneProbe && allClosed;
    }
}
