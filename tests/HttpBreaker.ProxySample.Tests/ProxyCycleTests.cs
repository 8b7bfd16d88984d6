using System.Net;
using System.Text.Json;
using HttpBreaker.ProxySample.Tests.Support;

namespace HttpBreaker.ProxySample.Tests;

/// <summary>
/// Walks the proxy's circuit through its states over real sockets: the proxy and its upstream each listen on an
/// ephemeral port of 127.0.0.1, and only the breaker's clock is fake.
/// </summary>
public sealed class ProxyCycleTests
{
    [Test]
    public async Task Proxy_FailOpenRecover_WalksEveryState()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();

        // Closed: the upstream's body and content type pass through.
        using HttpResponseMessage passed = await proxy.GetExternalAsync();
        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(passed.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        using (JsonDocument data = await ProxyFixture.ReadJsonAsync(passed))
        {
            Assert.That(data.RootElement.GetProperty("source").GetString(), Is.EqualTo("flaky-upstream"));
        }

        Assert.That(await proxy.GetHealthStatusAsync(), Is.EqualTo("Healthy"));

        // Failing: each 500 reaches the caller as a JSON error with the upstream's status, until the circuit opens.
        proxy.Upstream.Mode = UpstreamMode.Failing;
        for (int i = 0; i < proxy.Options.FailureThreshold; i++)
        {
            using HttpResponseMessage failed = await proxy.GetExternalAsync();
            Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(failed.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            using JsonDocument problem = await ProxyFixture.ReadJsonAsync(failed);
            Assert.That(problem.RootElement.GetProperty("reason").GetString(), Is.EqualTo("upstream-status"));
            Assert.That(problem.RootElement.GetProperty("upstreamStatus").GetInt32(), Is.EqualTo(500));
        }

        // Open: a JSON 503 with the breaker's Retry-After, and the upstream is not called.
        int received = proxy.Upstream.RequestCount;
        using HttpResponseMessage rejected = await proxy.GetExternalAsync();
        Assert.That(rejected.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(rejected.Headers.RetryAfter?.Delta, Is.EqualTo(proxy.Options.BreakDuration));
        Assert.That(rejected.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        using (JsonDocument problem = await ProxyFixture.ReadJsonAsync(rejected))
        {
            Assert.That(problem.RootElement.GetProperty("reason").GetString(), Is.EqualTo("circuit-open"));
            Assert.That(problem.RootElement.GetProperty("retryAfterSeconds").GetInt32(), Is.EqualTo((int)proxy.Options.BreakDuration.TotalSeconds));
        }

        Assert.That(proxy.Upstream.RequestCount, Is.EqualTo(received));
        Assert.That(await proxy.GetHealthStatusAsync(), Is.EqualTo("Degraded"));
        CircuitView open = await proxy.GetCircuitAsync();
        Assert.That(open.State, Is.EqualTo("open"));
        Assert.That(open.ConsecutiveFailures, Is.EqualTo(proxy.Options.FailureThreshold));
        Assert.That(open.OpenedAt, Is.EqualTo(proxy.Time.GetUtcNow()));
        Assert.That(open.NextProbeAt, Is.EqualTo(proxy.Time.GetUtcNow() + proxy.Options.BreakDuration));

        // The break ends and the upstream has recovered: the next request is the probe, and it closes the circuit.
        proxy.Upstream.Mode = UpstreamMode.Healthy;
        proxy.Time.Advance(proxy.Options.BreakDuration);
        using HttpResponseMessage probe = await proxy.GetExternalAsync();
        Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(proxy.Upstream.RequestCount, Is.EqualTo(received + 1));
        Assert.That((await proxy.GetCircuitAsync()).State, Is.EqualTo("closed"));
        Assert.That(await proxy.GetHealthStatusAsync(), Is.EqualTo("Healthy"));
    }

    [Test]
    public async Task Proxy_HealthWhileOpen_ListsCircuitData()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();
        await proxy.OpenCircuitAsync();

        using HttpResponseMessage response = await proxy.Http.GetAsync("health");
        using JsonDocument health = await ProxyFixture.ReadJsonAsync(response);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        JsonElement check = health.RootElement.GetProperty("checks").GetProperty("circuit-breakers");
        Assert.That(check.GetProperty("status").GetString(), Is.EqualTo("Degraded"));
        Assert.That(check.GetProperty("description").GetString(), Is.EqualTo("1 of 1 circuits not closed: external (open)"));
        JsonElement circuit = check.GetProperty("data").GetProperty("external");
        Assert.That(circuit.GetProperty("state").GetString(), Is.EqualTo("open"));
        Assert.That(circuit.GetProperty("consecutiveFailures").GetInt32(), Is.EqualTo(proxy.Options.FailureThreshold));
        Assert.That(circuit.GetProperty("nextProbeAt").GetDateTimeOffset(), Is.EqualTo(proxy.Time.GetUtcNow() + proxy.Options.BreakDuration));
    }

    [Test]
    public async Task Proxy_ProbeInFlight_RejectsOthersAsHalfOpen()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();
        await proxy.OpenCircuitAsync();
        proxy.Time.Advance(proxy.Options.BreakDuration);
        proxy.Upstream.Mode = UpstreamMode.Hanging;
        int received = proxy.Upstream.RequestCount;

        Task<HttpResponseMessage> probe = proxy.GetExternalAsync();
        await proxy.Upstream.WhenRequestsReceivedAsync(received + 1);
        using HttpResponseMessage rejected = await proxy.GetExternalAsync();
        CircuitView halfOpen = await proxy.GetCircuitAsync();
        proxy.Upstream.Mode = UpstreamMode.Healthy;
        using HttpResponseMessage probed = await probe;

        Assert.That(rejected.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(rejected.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(await ProxyFixture.ReadReasonAsync(rejected), Is.EqualTo("circuit-half-open"));
        Assert.That(halfOpen.State, Is.EqualTo("half-open"));
        Assert.That(probed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await proxy.GetCircuitAsync()).State, Is.EqualTo("closed"));
    }

    [Test]
    public async Task Proxy_UpstreamStopped_Returns503Json()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();
        await proxy.Upstream.StopAsync();

        using HttpResponseMessage response = await proxy.GetExternalAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        using JsonDocument problem = await ProxyFixture.ReadJsonAsync(response);
        Assert.That(problem.RootElement.GetProperty("reason").GetString(), Is.EqualTo("upstream-unreachable"));
        Assert.That(problem.RootElement.GetProperty("httpRequestError").GetString(), Is.EqualTo("ConnectionError"));
        Assert.That((await proxy.GetCircuitAsync()).ConsecutiveFailures, Is.EqualTo(1));
    }

    [Test]
    public async Task Proxy_UpstreamHangs_Returns504AtBreakerTimeout()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();
        proxy.Upstream.Mode = UpstreamMode.Hanging;

        Task<HttpResponseMessage> sending = proxy.GetExternalAsync();
        await proxy.Upstream.WhenRequestsReceivedAsync(1);
        proxy.Time.Advance(proxy.Options.Timeout!.Value);
        using HttpResponseMessage response = await sending;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.GatewayTimeout));
        Assert.That(await ProxyFixture.ReadReasonAsync(response), Is.EqualTo("upstream-timeout"));
        Assert.That((await proxy.GetCircuitAsync()).ConsecutiveFailures, Is.EqualTo(1));
    }

    [Test]
    public async Task Proxy_UpstreamOverloaded_PassesRetryAfterOn()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();
        proxy.Upstream.Mode = UpstreamMode.Overloaded;

        using HttpResponseMessage response = await proxy.GetExternalAsync();

        // The upstream's own 503 is an upstream failure, not a rejection by the proxy's circuit.
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(FlakyUpstream.OverloadedRetryAfter));
        using JsonDocument problem = await ProxyFixture.ReadJsonAsync(response);
        Assert.That(problem.RootElement.GetProperty("reason").GetString(), Is.EqualTo("upstream-status"));
        Assert.That(problem.RootElement.GetProperty("upstreamStatus").GetInt32(), Is.EqualTo(503));
    }

    [Test]
    public async Task Proxy_Address_IsLoopback()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();

        Assert.That(proxy.Address.Host, Is.EqualTo("127.0.0.1"));
        Assert.That(proxy.Address.Port, Is.Not.Zero);
    }
}
