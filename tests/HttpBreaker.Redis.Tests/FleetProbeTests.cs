using System.Net;
using HttpBreaker.Redis.Tests.Support;

namespace HttpBreaker.Redis.Tests;

/// <summary>
/// How a fleet recovers: one instance probes for all under a lease, and its result closes or reopens every instance.
/// </summary>
public class FleetProbeTests : FleetTestBase
{
    private static readonly TimeSpan ShortBreak = TimeSpan.FromMilliseconds(300);

    [Test]
    public async Task FiveInstances_SendExactlyOneProbe()
    {
        FleetInstance[] fleet = await StartFleetAsync(5, breakDuration: ShortBreak);
        await OpenFleetAsync(fleet);
        int beforeProbe = Upstream.Received;

        List<Task<HttpResponseMessage>> sent = await DriveUntilReceivedAsync(fleet, beforeProbe + 1, "/hold", TimeSpan.FromSeconds(1));
        FleetInstance prober = fleet.Single(instance => instance.State == CircuitState.HalfOpen);

        // The probe is still held by the upstream; every other instance keeps rejecting until its result is published.
        FleetInstance[] others = [.. fleet.Where(instance => instance != prober)];
        foreach (FleetInstance instance in others)
        {
            instance.Time.Advance(TimeSpan.FromSeconds(1));
            using HttpResponseMessage response = await instance.Client.GetAsync("/");
            Assert.That(CircuitBreakerHandler.IsRejection(response), Is.True, $"instance {instance.Index} while instance {prober.Index} probes");
        }

        Assert.That(Upstream.Received, Is.EqualTo(beforeProbe + 1), "exactly one probe for five instances");
        await Eventually.HoldsAsync(() => sent.Count(task => !task.IsCompleted) == 1, "every request but the held probe has completed");

        Upstream.ReleaseHeld();
        foreach (FleetInstance instance in fleet)
        {
            await instance.WaitForStateAsync(CircuitState.Closed, "the probe succeeded");
        }

        await Task.WhenAll(sent);
        foreach (Task<HttpResponseMessage> request in sent)
        {
            request.Result.Dispose();
        }
    }

    [Test]
    public async Task ProbeSuccess_ClosesAllWithinOneRefresh()
    {
        FleetInstance[] fleet = await StartFleetAsync(3, breakDuration: ShortBreak);
        await OpenFleetAsync(fleet);

        List<Task<HttpResponseMessage>> sent = await DriveUntilReceivedAsync(fleet, Upstream.Received + 1, "/", TimeSpan.FromSeconds(1));
        await Task.WhenAll(sent);

        foreach (FleetInstance instance in fleet)
        {
            instance.Time.Advance(RefreshInterval);
        }

        foreach (FleetInstance instance in fleet)
        {
            await instance.WaitForStateAsync(CircuitState.Closed, "the probe succeeded, and one refresh interval passed");
        }

        Assert.That((string?)await ReadSharedStateAsync(), Is.EqualTo("closed"));
        Assert.That((string?)await Inspector.GetDatabase().HashGetAsync($"httpbreaker:{{{FleetInstance.ClientName}}}:state", "r"), Is.EqualTo("ProbeSucceeded"));
        foreach (Task<HttpResponseMessage> request in sent)
        {
            request.Result.Dispose();
        }
    }

    [Test]
    public async Task ProbeFails_ReopensEveryInstance()
    {
        FleetInstance[] fleet = await StartFleetAsync(3, breakDuration: ShortBreak);
        await OpenFleetAsync(fleet);
        Upstream.Status = HttpStatusCode.InternalServerError;
        List<Task<HttpResponseMessage>> sent = await DriveUntilReceivedAsync(fleet, Upstream.Received + 1, "/", TimeSpan.FromSeconds(1));
        await Task.WhenAll(sent);

        foreach (FleetInstance instance in fleet)
        {
            await instance.WaitForStateAsync(CircuitState.Open, "the probe failed, so the whole fleet reopened");
        }

        Assert.That((string?)await ReadSharedStateAsync(), Is.EqualTo("open"));
        Assert.That((string?)await Inspector.GetDatabase().HashGetAsync($"httpbreaker:{{{FleetInstance.ClientName}}}:state", "r"), Is.EqualTo("ProbeFailed"));
        foreach (Task<HttpResponseMessage> request in sent)
        {
            request.Result.Dispose();
        }
    }

    [Test]
    public async Task DeadProbeOwner_LeaseExpires_OtherProbes()
    {
        FleetInstance[] fleet = await StartFleetAsync(3, breakDuration: ShortBreak, probeTimeout: TimeSpan.FromMilliseconds(300));
        await OpenFleetAsync(fleet);
        int beforeProbe = Upstream.Received;

        // The break ends and one instance wins the lease and goes half-open. Requests go to the held path, so a probe
        // that the winner may send before it dies stays in flight and never reports.
        var held = new List<Task<HttpResponseMessage>>();
        await Eventually.HoldsAsync(
            () => fleet.Any(instance => instance.State == CircuitState.HalfOpen),
            "one instance won the probe lease",
            () =>
            {
                foreach (FleetInstance instance in fleet.TakeWhile(_ => fleet.All(member => member.State == CircuitState.Open)))
                {
                    instance.Time.Advance(TimeSpan.FromSeconds(1));
                    held.Add(instance.Client.GetAsync("/hold"));
                }

                return Task.CompletedTask;
            });
        FleetInstance owner = fleet.Single(instance => instance.State == CircuitState.HalfOpen);
        await owner.DisposeAsync();
        FleetInstance[] survivors = [.. fleet.Where(instance => instance != owner)];
        int ownerProbes = Upstream.Received - beforeProbe;
        Assert.That(ownerProbes, Is.LessThanOrEqualTo(1), "at most the dead owner probed");

        List<Task<HttpResponseMessage>> sent = await DriveUntilReceivedAsync(survivors, beforeProbe + ownerProbes + 1, "/", TimeSpan.FromSeconds(1));
        await Task.WhenAll(sent);

        foreach (FleetInstance instance in survivors)
        {
            await instance.WaitForStateAsync(CircuitState.Closed, "a survivor probed after the dead owner's lease expired");
        }

        foreach (Task<HttpResponseMessage> request in sent)
        {
            request.Result.Dispose();
        }

        Upstream.ReleaseHeld();
        await Task.WhenAll(held.Select(request => request.ContinueWith(static finished => finished.Exception, TaskScheduler.Default)));
    }

    /// <summary>Trips the first instance and waits until every instance of the fleet is open.</summary>
    private async Task OpenFleetAsync(FleetInstance[] fleet)
    {
        await TripAsync(fleet[0]);
        foreach (FleetInstance instance in fleet)
        {
            await instance.WaitForStateAsync(CircuitState.Open, "one trip reaches a quorum of 1");
        }
    }
}
