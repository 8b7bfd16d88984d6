using System.Net;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace HttpBreaker.Tests;

public class CircuitBreakerRegistryTests
{
    [Test]
    public void TryGetCircuit_UnknownName_ReturnsFalse()
    {
        using var services = BreakerServices.Create();

        bool found = services.Registry.TryGetCircuit("nope", out CircuitSnapshot? snapshot);

        Assert.That(found, Is.False);
        Assert.That(snapshot, Is.Null);
    }

    [Test]
    public void GetCircuits_ListsEveryCircuitByName()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("zeta").AddCircuitBreaker();
        services.AddHttpClient("alpha").AddCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        using HttpClient zeta = factory.CreateClient("zeta");
        using HttpClient alpha = factory.CreateClient("alpha");

        IReadOnlyList<CircuitSnapshot> circuits = provider.GetRequiredService<ICircuitBreakerRegistry>().GetCircuits();

        Assert.That(circuits.Select(c => c.Name), Is.EqualTo(new[] { "alpha", "zeta" }));
        Assert.That(circuits.Select(c => c.State), Is.All.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task Snapshot_Open_ReportsTimes()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        DateTimeOffset openedAt = services.Time.GetUtcNow();

        await services.SendAsync(HttpStatusCode.InternalServerError, 2);
        services.Time.Advance(TimeSpan.FromSeconds(5));
        CircuitSnapshot snapshot = services.Snapshot;

        Assert.That(snapshot.Name, Is.EqualTo(BreakerServices.ClientName));
        Assert.That(snapshot.State, Is.EqualTo(CircuitState.Open));
        Assert.That(snapshot.ConsecutiveFailures, Is.EqualTo(2));
        Assert.That(snapshot.OpenedAt, Is.EqualTo(openedAt));
        Assert.That(snapshot.NextProbeAt, Is.EqualTo(openedAt + TimeSpan.FromSeconds(30)));
    }

    [Test]
    public async Task Isolate_RejectsWithoutRetryAfterUntilReset()
    {
        using var services = BreakerServices.Create();
        using HttpClient client = services.CreateClient();

        services.Registry.Isolate(BreakerServices.ClientName);
        services.Time.Advance(TimeSpan.FromDays(2));
        using HttpResponseMessage rejected = await client.GetAsync(BreakerServices.Url);

        Assert.That(services.State, Is.EqualTo(CircuitState.Isolated));
        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
        Assert.That(rejected.Headers.RetryAfter, Is.Null);
        Assert.That(await rejected.Content.ReadAsStringAsync(), Does.Contain("isolated"));
        Assert.That(services.UpstreamCalls, Is.Zero);
        Assert.That(services.Snapshot.NextProbeAt, Is.Null);

        services.Registry.Reset(BreakerServices.ClientName);
        using HttpResponseMessage passed = await client.GetAsync(BreakerServices.Url);

        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.UpstreamCalls, Is.EqualTo(1));
    }

    [Test]
    public async Task Isolate_WhileProbeInFlight_ProbeResultIgnored()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        Task<HttpResponseMessage> failing = client.GetAsync(BreakerServices.Url);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        (await failing).Dispose();
        services.Time.Advance(TimeSpan.FromSeconds(30));
        Task<HttpResponseMessage> probe = client.GetAsync(BreakerServices.Url);

        services.Registry.Isolate(BreakerServices.ClientName);
        gate.Next().Respond(HttpStatusCode.OK);
        (await probe).Dispose();

        Assert.That(services.State, Is.EqualTo(CircuitState.Isolated));
    }

    [Test]
    public async Task Reset_OpenCircuit_ClosesAndClearsCount()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        await services.SendAsync(HttpStatusCode.InternalServerError, 2);

        services.Registry.Reset(BreakerServices.ClientName);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.Zero);
        Assert.That(services.Snapshot.OpenedAt, Is.Null);
    }

    [Test]
    public void Isolate_BeforeFirstRequest_CreatesCircuit()
    {
        using var services = BreakerServices.Create();

        services.Registry.Isolate(BreakerServices.ClientName);

        Assert.That(services.State, Is.EqualTo(CircuitState.Isolated));
    }

    [Test]
    public void Isolate_UnknownClient_ThrowsWithFix()
    {
        using var services = BreakerServices.Create();

        ArgumentException? exception = Assert.Throws<ArgumentException>(() => services.Registry.Isolate("gihtub"));

        Assert.That(exception!.ParamName, Is.EqualTo("name"));
        Assert.That(exception.Message, Does.Contain("'gihtub'"));
        Assert.That(exception.Message, Does.Contain("'github'"));
        Assert.That(exception.Message, Does.Contain("AddHttpClient(\"gihtub\").AddCircuitBreaker()"));
        Assert.That(services.Registry.TryGetCircuit("gihtub", out _), Is.False);
    }

    [Test]
    public void Reset_UnknownClient_Throws()
    {
        using var services = BreakerServices.Create();

        Assert.Throws<ArgumentException>(() => services.Registry.Reset("other"));
    }

    [Test]
    public void Isolate_AllClientsRegistered_AcceptsAnyName()
    {
        var services = new ServiceCollection();
        services.AddHttpClient().AddCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();

        registry.Isolate("payments");

        Assert.That(registry.TryGetCircuit("payments", out CircuitSnapshot? snapshot), Is.True);
        Assert.That(snapshot!.State, Is.EqualTo(CircuitState.Isolated));
    }

    [Test]
    public void NullName_Throws()
    {
        using var services = BreakerServices.Create();

        Assert.Throws<ArgumentNullException>(() => services.Registry.Isolate(null!));
        Assert.Throws<ArgumentNullException>(() => services.Registry.Reset(null!));
        Assert.Throws<ArgumentNullException>(() => services.Registry.TryGetCircuit(null!, out _));
    }
}
