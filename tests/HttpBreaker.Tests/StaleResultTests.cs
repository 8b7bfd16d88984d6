using System.Net;
using HttpBreaker.Tests.Support;

namespace HttpBreaker.Tests;

public class StaleResultTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    [Test]
    public async Task LateSuccess_AfterCircuitOpened_KeepsItOpen()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2, gate);
        using HttpClient client = services.CreateClient();
        Task<HttpResponseMessage> slow = client.GetAsync(BreakerServices.Url);
        GatedHandler.PendingRequest slowRequest = gate.Next();

        await gate.FailThroughAsync(client, 2);
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));

        slowRequest.Respond(HttpStatusCode.OK);
        using HttpResponseMessage response = await slow;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(2));
    }

    [Test]
    public async Task LateFailure_DuringProbe_DoesNotReopen()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2, gate);
        using HttpClient client = services.CreateClient();
        Task<HttpResponseMessage> slow = client.GetAsync(BreakerServices.Url);
        GatedHandler.PendingRequest slowRequest = gate.Next();
        await gate.FailThroughAsync(client, 2);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> probe = client.GetAsync(BreakerServices.Url);

        slowRequest.Respond(HttpStatusCode.InternalServerError);
        (await slow).Dispose();

        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen));

        gate.Next().Respond(HttpStatusCode.OK);
        (await probe).Dispose();

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task LateFailures_AfterReset_DoNotCountInNewPhase()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2, gate);
        using HttpClient client = services.CreateClient();
        Task<HttpResponseMessage> first = client.GetAsync(BreakerServices.Url);
        Task<HttpResponseMessage> second = client.GetAsync(BreakerServices.Url);

        services.Registry.Reset(BreakerServices.ClientName);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        (await first).Dispose();
        (await second).Dispose();

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.Zero);
    }

    [Test]
    public async Task LateCancellation_OfStaleProbe_KeepsNewProbeSlot()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client, 1);
        services.Time.Advance(BreakDuration);
        using var cancellation = new CancellationTokenSource();
        Task<HttpResponseMessage> staleProbe = client.GetAsync(BreakerServices.Url, cancellation.Token);
        services.Registry.Reset(BreakerServices.ClientName);
        await gate.FailThroughAsync(client, 1);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> newProbe = client.GetAsync(BreakerServices.Url);

        await cancellation.CancelAsync();
        Assert.CatchAsync<OperationCanceledException>(() => staleProbe);
        using HttpResponseMessage other = await client.GetAsync(BreakerServices.Url);

        Assert.That(CircuitBreakerHandler.IsRejection(other), Is.True);
        Assert.That(gate.Received, Is.EqualTo(4));
        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen));

        gate.Next();
        gate.Next().Respond(HttpStatusCode.OK);
        (await newProbe).Dispose();

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }
}
