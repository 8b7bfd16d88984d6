using System.Diagnostics.Metrics;
using System.Net;
using HttpBreaker.Redis.Tests.Support;

namespace HttpBreaker.Redis.Tests;

/// <summary>
/// A Redis that dies mid-run: requests keep flowing through local circuits, and the fleet resynchronises when it is back.
/// </summary>
public class RedisOutageTests : FleetTestBase
{
    private const int StoreUnavailableEventId = 100;
    private const int StoreAvailableEventId = 101;

    /// <summary>A reconnection waits for the Redis client's retry policy, which can take several seconds.</summary>
    private static readonly TimeSpan ReconnectDeadline = TimeSpan.FromSeconds(45);

    [Test]
    public async Task RedisKilled_LocalCircuitsKeepWorking_RestartResynchronises()
    {
        using var failures = new FailureCounter();
        FleetInstance[] fleet = await StartFleetAsync(3, breakDuration: TimeSpan.FromSeconds(30));

        await Redis.KillAsync();

        // Requests flow, and no Redis error reaches a caller, whichever state each circuit is in.
        for (int round = 0; round < 5; round++)
        {
            foreach (FleetInstance instance in fleet)
            {
                instance.Time.Advance(RefreshInterval);
                using HttpResponseMessage response = await instance.Client.GetAsync("/");
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"instance {instance.Index} while Redis is down");
            }
        }

        // A local trip opens the local circuit only; it cannot reach the others.
        await TripAsync(fleet[0]);
        await Eventually.HoldsAsync(() => fleet[0].CountLogs(StoreUnavailableEventId) == 1, "the failed trip report was logged");
        using (HttpResponseMessage other = await fleet[1].Client.GetAsync("/"))
        {
            Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK), "another instance keeps sending");
        }

        // Without Redis the tripped instance probes on its own after its local break.
        fleet[0].Time.Advance(TimeSpan.FromSeconds(31));
        using (HttpResponseMessage probe = await fleet[0].Client.GetAsync("/"))
        {
            Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the local probe reached the upstream");
        }

        Assert.That(fleet[0].State, Is.EqualTo(CircuitState.Closed), "the local probe closed the local circuit");
        foreach (FleetInstance instance in fleet)
        {
            await Eventually.HoldsAsync(() => instance.CountLogs(StoreUnavailableEventId) == 1, $"instance {instance.Index} logged the outage",
                () =>
                {
                    instance.Time.Advance(RefreshInterval);
                    return Task.CompletedTask;
                });
        }

        Assert.That(fleet.Select(instance => instance.CountLogs(StoreUnavailableEventId)), Is.All.EqualTo(1), "one warning per outage, not per failure");
        Assert.That(failures.Count, Is.GreaterThan(fleet.Length), "every failed Redis operation was counted");

        await Redis.RestartAsync();

        foreach (FleetInstance instance in fleet)
        {
            await Eventually.HoldsAsync(
                () => instance.CountLogs(StoreAvailableEventId) == 1,
                $"instance {instance.Index} reached Redis again",
                () =>
                {
                    instance.Time.Advance(RefreshInterval);
                    return Task.CompletedTask;
                },
                ReconnectDeadline);
        }

        await WaitForSubscribersAsync(fleet.Length);
        await TripAsync(fleet[2]);
        foreach (FleetInstance instance in fleet)
        {
            await instance.WaitForStateAsync(CircuitState.Open, "after the restart a trip reaches the fleet again");
        }
    }

    [Test]
    public async Task IsolateDuringOutage_IsSentOnReconnect()
    {
        FleetInstance[] fleet = await StartFleetAsync(2);
        await Redis.KillAsync();

        fleet[0].Registry.Isolate(FleetInstance.ClientName);

        Assert.That(fleet[0].State, Is.EqualTo(CircuitState.Isolated), "isolation applies locally at once");
        await Eventually.HoldsAsync(() => fleet[0].CountLogs(StoreUnavailableEventId) == 1, "the failed isolation was logged");

        await Redis.RestartAsync();

        await Eventually.HoldsAsync(
            () => fleet[1].State == CircuitState.Isolated,
            "the isolation made during the outage reached the other instance",
            () =>
            {
                foreach (FleetInstance instance in fleet)
                {
                    instance.Time.Advance(RefreshInterval);
                }

                return Task.CompletedTask;
            },
            ReconnectDeadline);
        Assert.That(fleet[0].State, Is.EqualTo(CircuitState.Isolated), "reading the empty state after the restart did not undo the isolation");
    }

    /// <summary>Counts the coordination failures that the fleet reports on its meter.</summary>
    private sealed class FailureCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public FailureCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "HttpBreaker.Redis" && instrument.Name == "httpbreaker.redis.coordination_failures")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
