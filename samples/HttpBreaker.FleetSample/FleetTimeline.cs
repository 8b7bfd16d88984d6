using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace HttpBreaker.FleetSample;

/// <summary>
/// Prints the run as it happens, each line stamped with the time since the start, and keeps every state change of
/// every instance for the verdict.
/// </summary>
internal sealed class FleetTimeline(Stopwatch clock)
{
    private readonly Lock _consoleLock = new();
    private readonly ConcurrentQueue<(int Instance, CircuitStateChangedEventArgs Change)> _changes = new();

    public IReadOnlyList<(int Instance, CircuitStateChangedEventArgs Change)> Changes => [.. _changes];

    /// <summary>Records a change that an instance's StateChanged event delivered, from that instance's background task.</summary>
    public void Record(int instance, CircuitStateChangedEventArgs change)
    {
        _changes.Enqueue((instance, change));
        Print($"  >> instance {instance}: {SampleInstance.Describe(change.From)} -> {SampleInstance.Describe(change.To)} ({change.Reason})");
    }

    public void Phase(string description) => Print($"-- {description}");

    public void States(IEnumerable<SampleInstance> instances, int received) =>
        Print($"  states: {string.Join(" | ", instances.Select(instance => $"{instance.Number} {SampleInstance.Describe(instance.State),-9}"))}  upstream received {received}");

    public void Print(string line)
    {
        string stamp = clock.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
        lock (_consoleLock)
        {
            Console.WriteLine($"{stamp,8}s {line}");
        }
    }
}
