using System.Net;
using HttpBreaker.Redis.Tests.Support;
using StackExchange.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace HttpBreaker.Redis.Tests;

/// <summary>
/// Races and restarts within a fleet: an instance that comes back under the same id, a manual reset that overtakes a
/// probe, a probe that outlives its lease, and trips that age out of the quorum window.
/// </summary>
public class FleetRaceTests : FleetTestBase
{
    private static readonly TimeSpan ShortBreak = TimeSpan.FromMilliseconds(300);

    private static RedisKey StateKey => $"httpbreaker:{{{FleetInstance.ClientName}}}:state";

    private static RedisKey ProbeKey => $"httpbreaker:{{{FleetInstance.ClientName}}}:probe";

    [Test]
    public async Task RestartedInstance_SameIdOnLease_Opens()
    {
        FleetInstance first = StartNamedInstance("alpha");
        await WaitForSubscribersAsync(1);
        await TripAsync(first);
        await Eventually.HoldsAsync(async () => (string?)await ReadSharedStateAsync() == "open", "the trip opened the shared circuit");

        // The break ends and the instance wins the lease. Its probe is held, and then the instance dies with it.
        List<Task<HttpResponseMessage>> heldRequests = await DriveUntilReceivedAsync([first], Upstream.Received + 1, "/hold", TimeSpan.FromSeconds(1));
        Assert.That(first.State, Is.EqualTo(CircuitState.HalfOpen), "the instance won the lease and probes");
        await first.DisposeAsync();
        int beforeRestart = Upstream.Received;

        // A restart under a fixed id, such as a pod name, finds the fleet half-open and its own id on the lease.
        FleetInstance restarted = StartNamedInstance("alpha");
        await restarted.WaitForStateAsync(CircuitState.Open, "the fleet is open and this process holds no probe");

        using HttpResponseMessage response = await restarted.Client.GetAsync("/");
        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.True, "the restarted instance rejects while the lease is held");
        Assert.That(Upstream.Received, Is.EqualTo(beforeRestart), "the restarted instance sent nothing to the upstream");
        Upstream.ReleaseHeld();
        await Task.WhenAll(heldRequests.Select(request => request.ContinueWith(static task => task.Exception, TaskScheduler.Default)));
    }

    [Test]
    public async Task Reset_DuringProbe_LateFailureIgnored()
    {
        FleetInstance[] fleet = await StartFleetAsync(2, breakDuration: ShortBreak);
        await TripAsync(fleet[0]);
        await fleet[1].WaitForStateAsync(CircuitState.Open, "one trip reaches a quorum of 1");
        List<Task<HttpResponseMessage>> heldRequests = await DriveUntilReceivedAsync(fleet, Upstream.Received + 1, "/hold", TimeSpan.FromSeconds(1));
        FleetInstance prober = fleet.Single(instance => instance.State == CircuitState.HalfOpen);
        FleetInstance operatorSide = fleet.Single(instance => instance != prober);

        operatorSide.Registry.Reset(FleetInstance.ClientName);
        await prober.WaitForStateAsync(CircuitState.Closed, "the reset reached the prober");

        // The probe that started before the reset now fails. The reset is newer than that probe, so nothing reopens.
        Upstream.Status = HttpStatusCode.InternalServerError;
        Upstream.ReleaseHeld();
        await Task.WhenAll(heldRequests.Select(request => request.ContinueWith(static task => task.Exception, TaskScheduler.Default)));
        foreach (FleetInstance instance in fleet)
        {
            instance.Time.Advance(RefreshInterval);
        }

        await Eventually.HoldsAsync(
            async () => !await Inspector.GetDatabase().KeyExistsAsync(ProbeKey),
            "no lease is left after the reset");
        Assert.That((string?)await ReadSharedStateAsync(), Is.EqualTo("closed"), "the late probe result was ignored by the fleet");
        Assert.That(prober.State, Is.EqualTo(CircuitState.Closed), "the late probe result did not reopen the prober");
        Assert.That(operatorSide.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task Isolate_DuringProbe_LateSuccessKeepsIsolation()
    {
        FleetInstance[] fleet = await StartFleetAsync(2, breakDuration: ShortBreak);
        await TripAsync(fleet[0]);
        await fleet[1].WaitForStateAsync(CircuitState.Open, "one trip reaches a quorum of 1");
        FleetInstance prober = await WinLeaseAsync(fleet);
        FleetInstance operatorSide = fleet.Single(instance => instance != prober);
        int beforeProbe = Upstream.Received;
        Task<HttpResponseMessage> probe = prober.Client.GetAsync("/hold");
        await Upstream.WhenReceivedAsync(beforeProbe + 1);

        operatorSide.Registry.Isolate(FleetInstance.ClientName);
        await prober.WaitForStateAsync(CircuitState.Isolated, "the isolation reached the prober");

        // The probe that started before the isolation now succeeds, which must not close the fleet.
        Upstream.ReleaseHeld();
        (await probe).Dispose();
        foreach (FleetInstance instance in fleet)
        {
            instance.Time.Advance(RefreshInterval);
        }

        await Eventually.HoldsAsync(
            async () => !await Inspector.GetDatabase().KeyExistsAsync(ProbeKey),
            "no lease is left after the isolation");
        Assert.That((string?)await ReadSharedStateAsync(), Is.EqualTo("isolated"), "the late probe success was ignored by the fleet");
        Assert.That(prober.State, Is.EqualTo(CircuitState.Isolated), "the late probe success did not close the prober");
        Assert.That(operatorSide.State, Is.EqualTo(CircuitState.Isolated));
    }

    [Test]
    public async Task ProbeTimeout_AfterLeaseExpiry_ReopensFleet()
    {
        TimeSpan probeTimeout = TimeSpan.FromMilliseconds(300);
        FleetInstance[] fleet = await StartFleetAsync(2, breakDuration: ShortBreak, probeTimeout: probeTimeout);
        await TripAsync(fleet[0]);
        await fleet[1].WaitForStateAsync(CircuitState.Open, "one trip reaches a quorum of 1");
        FleetInstance prober = await WinLeaseAsync(fleet);
        int beforeProbe = Upstream.Received;
        Task<HttpResponseMessage> probe = prober.Client.GetAsync("/hold");
        await Upstream.WhenReceivedAsync(beforeProbe + 1);

        // The lease lasts ProbeTimeout on the Redis clock, and the probe times out after ProbeTimeout on the
        // instance's clock, so the lease is gone by the time any instance can see the timeout.
        await Eventually.HoldsAsync(
            async () => !await Inspector.GetDatabase().KeyExistsAsync(ProbeKey),
            "the probe lease expired");
        prober.Time.Advance(probeTimeout);
        using (HttpResponseMessage rejected = await prober.Client.GetAsync("/"))
        {
            Assert.That(prober.State, Is.EqualTo(CircuitState.Open), "the request found the probe overdue and reopened the circuit");
        }

        // A hung upstream must back the fleet off like a failed probe does, instead of leaving the shared break
        // over so that the next instance probes at once.
        await Eventually.HoldsAsync(
            async () => (string?)await Inspector.GetDatabase().HashGetAsync(StateKey, "r") == "ProbeTimedOut",
            "the timed-out probe reopened the shared circuit");
        Upstream.ReleaseHeld();
        (await probe).Dispose();
    }

    [Test]
    public async Task QuorumTwo_AgedTrip_DoesNotCount()
    {
        TimeSpan samplingDuration = TimeSpan.FromMilliseconds(400);
        FleetInstance first = StartNamedInstance("first", quorum: 2, samplingDuration: samplingDuration);
        FleetInstance second = StartNamedInstance("second", quorum: 2, samplingDuration: samplingDuration);
        await WaitForSubscribersAsync(2);
        await TripAsync(first);
        await Eventually.HoldsAsync(async () => await CountTripsAsync() == 1, "the first trip was counted");

        // The first trip ages past SamplingDuration on the Redis clock before the second instance trips.
        await Eventually.HoldsAsync(async () => await CountTripsAsync() == 0, "the first trip left the window");
        await TripAsync(second);
        await Eventually.HoldsAsync(async () => await CountTripsAsync() == 1, "the second trip was counted alone");

        Assert.That((string?)await ReadSharedStateAsync(), Is.Not.EqualTo("open"), "two trips further apart than SamplingDuration");
        Assert.That(second.State, Is.EqualTo(CircuitState.Open), "the second instance opened only its own circuit");
    }

    /// <summary>
    /// Advances the clocks of an open fleet and sends a request through each instance, without the probe that the
    /// winner of the lease would send, until one instance is half-open.
    /// </summary>
    private static async Task<FleetInstance> WinLeaseAsync(FleetInstance[] fleet)
    {
        await Eventually.HoldsAsync(
            () => fleet.Any(instance => instance.State == CircuitState.HalfOpen),
            "one instance won the probe lease",
            async () =>
            {
                foreach (FleetInstance instance in fleet.TakeWhile(_ => fleet.All(member => member.State == CircuitState.Open)))
                {
                    instance.Time.Advance(TimeSpan.FromSeconds(1));
                    using HttpResponseMessage rejected = await instance.Client.GetAsync("/");
                }
            });
        return fleet.Single(instance => instance.State == CircuitState.HalfOpen);
    }

    private FleetInstance StartNamedInstance(string instanceId, int quorum = 1, TimeSpan? samplingDuration = null)
    {
        FleetInstance instance = FleetInstance.Start(0, TimeSpan.Zero, Upstream.BaseAddress, client => client
            .AddCircuitBreaker(options =>
            {
                options.FailureThreshold = FailureThreshold;
                options.BreakDuration = ShortBreak;
                options.SamplingDuration = samplingDuration ?? options.SamplingDuration;
            })
            .ShareThroughRedis(options =>
            {
                options.Configuration = Redis.Configuration;
                options.Quorum = quorum;
                options.RefreshInterval = RefreshInterval;
                options.InstanceId = instanceId;
            }));
        Track(instance);
        return instance;
    }
}
