using System.Diagnostics.Metrics;
using System.Net;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace HttpBreaker.Tests;

/// <summary>
/// Drives the breaker over real sockets against a Kestrel server on 127.0.0.1.
/// </summary>
public class LoopbackServerTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    private LoopbackUpstream _upstream = null!;
    private FakeTimeProvider _time = null!;
    private ServiceProvider _provider = null!;

    [SetUp]
    public async Task SetUpAsync()
    {
        _upstream = await LoopbackUpstream.StartAsync();
        _time = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        services.AddLogging(logging => logging.ClearProviders());
        services.AddHttpClient("live", client =>
            {
                client.BaseAddress = _upstream.BaseAddress;
                client.Timeout = TimeSpan.FromSeconds(10);
            })
            .AddCircuitBreaker(o => o.FailureThreshold = 3);
        services.AddHttpClient("refused", client => client.BaseAddress = LoopbackUpstream.GetRefusingAddress())
            .AddCircuitBreaker(o => o.FailureThreshold = 2);
        _provider = services.BuildServiceProvider();
    }

    [TearDown]
    public async Task TearDownAsync()
    {
        await _provider.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Test]
    public async Task Metrics_OverRealSockets_CountOutcomesTransitionsAndRejections()
    {
        IMeterFactory meters = _provider.GetRequiredService<IMeterFactory>();
        using var outcomes = new MetricCollector<long>(meters, "HttpBreaker", "httpbreaker.request.outcomes");
        using var transitions = new MetricCollector<long>(meters, "HttpBreaker", "httpbreaker.circuit.transitions");
        using var rejections = new MetricCollector<long>(meters, "HttpBreaker", "httpbreaker.request.rejections");
        using HttpClient live = CreateClient("live");
        using HttpClient refused = CreateClient("refused");

        using (HttpResponseMessage passed = await live.GetAsync("/"))
        {
            Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        for (int i = 0; i < 2; i++)
        {
            Assert.ThrowsAsync<HttpRequestException>(() => refused.GetAsync("/"));
        }

        using HttpResponseMessage rejected = await refused.GetAsync("/");

        Assert.That(outcomes.GetMeasurementSnapshot().Select(m => $"{m.Tags["httpbreaker.client.name"]}:{m.Tags["httpbreaker.outcome"]}"),
            Is.EqualTo(new[] { "live:success", "refused:failure", "refused:failure" }));
        Assert.That(transitions.GetMeasurementSnapshot().Single().Tags["httpbreaker.transition.to"], Is.EqualTo("open"));
        Assert.That(rejections.GetMeasurementSnapshot().Single().Tags["httpbreaker.client.name"], Is.EqualTo("refused"));
        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
    }

    [Test]
    public async Task FullCycle_OverRealSockets()
    {
        using HttpClient client = CreateClient("live");

        _upstream.Status = HttpStatusCode.InternalServerError;
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage failed = await client.GetAsync("/");
            Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        }

        Assert.That(State("live"), Is.EqualTo(CircuitState.Open));

        _upstream.Status = HttpStatusCode.OK;
        for (int i = 0; i < 5; i++)
        {
            using HttpResponseMessage rejected = await client.GetAsync("/");
            Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
        }

        Assert.That(_upstream.Received, Is.EqualTo(3), "rejected requests never reach the upstream");

        _time.Advance(BreakDuration);
        using HttpResponseMessage probe = await client.GetAsync("/");

        Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(_upstream.Received, Is.EqualTo(4));
        Assert.That(State("live"), Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task PassedResponse_ArrivesUnchanged()
    {
        using HttpClient client = CreateClient("live");
        _upstream.Status = HttpStatusCode.BadGateway;

        using HttpResponseMessage response = await client.GetAsync("/");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadGateway));
        Assert.That(response.Headers.GetValues("X-Upstream").Single(), Is.EqualTo("loopback"));
        Assert.That(response.Headers.Contains(CircuitBreakerHandler.RejectionHeaderName), Is.False);
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo(LoopbackUpstream.Body));
    }

    [Test]
    public async Task RefusedConnections_OpenCircuit()
    {
        using HttpClient client = CreateClient("refused");

        for (int i = 0; i < 2; i++)
        {
            Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/"));
        }

        using HttpResponseMessage rejected = await client.GetAsync("/");

        Assert.That(State("refused"), Is.EqualTo(CircuitState.Open));
        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
    }

    [Test]
    public void SynchronousSend_OverRealSockets()
    {
        using HttpClient client = CreateClient("live");
        _upstream.Status = HttpStatusCode.ServiceUnavailable;

        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage failed = client.Send(new HttpRequestMessage(HttpMethod.Get, "/"));
            Assert.That(CircuitBreakerHandler.IsRejection(failed), Is.False);
        }

        using HttpResponseMessage rejected = client.Send(new HttpRequestMessage(HttpMethod.Get, "/"));

        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
        Assert.That(_upstream.Received, Is.EqualTo(3));
    }

    [Test]
    public async Task CallerCancels_SlowRequest_DoesNotCount()
    {
        using HttpClient client = CreateClient("live");
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage> held = client.GetAsync("/hold", cancellation.Token);
        await _upstream.WhenReceivedAsync(1);
        await cancellation.CancelAsync();

        Assert.CatchAsync<OperationCanceledException>(() => held);
        Assert.That(_provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit("live", out CircuitSnapshot? snapshot), Is.True);
        Assert.That(snapshot!.ConsecutiveFailures, Is.Zero);
    }

    [Test]
    public async Task HalfOpen_ConcurrentCallers_OneProbeReachesServer()
    {
        using HttpClient client = CreateClient("live");
        _upstream.Status = HttpStatusCode.InternalServerError;
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage failed = await client.GetAsync("/");
        }

        _time.Advance(BreakDuration);
        _upstream.Status = HttpStatusCode.OK;
        Task<HttpResponseMessage>[] callers = await Racing.StartTogetherAsync(32, () => client.GetAsync("/hold"));
        await _upstream.WhenReceivedAsync(4);

        Assert.That(State("live"), Is.EqualTo(CircuitState.HalfOpen));

        _upstream.ReleaseHeld();
        HttpResponseMessage[] finished = await Task.WhenAll(callers);

        Assert.That(finished.Count(r => !CircuitBreakerHandler.IsRejection(r)), Is.EqualTo(1));
        Assert.That(finished.Count(CircuitBreakerHandler.IsRejection), Is.EqualTo(31));
        Assert.That(_upstream.Received, Is.EqualTo(4));
        Assert.That(State("live"), Is.EqualTo(CircuitState.Closed));
    }

    private HttpClient CreateClient(string name) => _provider.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    private CircuitState State(string name) =>
        _provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit(name, out CircuitSnapshot? snapshot)
            ? snapshot.State
            : throw new AssertionException($"No circuit named '{name}'.");
}
