using System.Net;
using System.Text.Json;
using HttpBreaker.Tests.Support;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

public class CircuitBreakerHandlerTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    [Test]
    public async Task SendAsync_FailuresBelowThreshold_StaysClosed()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 3);

        await services.SendAsync(HttpStatusCode.InternalServerError, 2);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(2));
    }

    [Test]
    public async Task SendAsync_ThresholdOf5xx_OpensCircuit()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 3);

        await services.SendAsync(HttpStatusCode.BadGateway, 3);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Snapshot.OpenedAt, Is.EqualTo(services.Time.GetUtcNow()));
        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(services.Time.GetUtcNow() + BreakDuration));
    }

    [TestCase(HttpStatusCode.OK)]
    [TestCase(HttpStatusCode.NoContent)]
    [TestCase(HttpStatusCode.Found)]
    [TestCase(HttpStatusCode.NotModified)]
    public async Task SendAsync_SuccessOr3xx_ResetsCount(HttpStatusCode status)
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 3);

        await services.SendAsync(HttpStatusCode.InternalServerError, 2);
        await services.SendAsync(status, 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 2);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(2));
    }

    [TestCase(HttpStatusCode.BadRequest)]
    [TestCase(HttpStatusCode.NotFound)]
    [TestCase(HttpStatusCode.TooManyRequests)]
    public async Task SendAsync_4xx_NeitherCountsNorResets(HttpStatusCode status)
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 3);

        await services.SendAsync(HttpStatusCode.InternalServerError, 2);
        await services.SendAsync(status, 10);

        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(2));

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task SendAsync_FailureResponse_ReturnedUnchanged()
    {
        using var services = BreakerServices.Create();
        using var upstreamResponse = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("upstream body") };
        upstreamResponse.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
        services.Upstream.Respond(_ => upstreamResponse);
        using HttpClient client = services.CreateClient();

        HttpResponseMessage response = await client.GetAsync(BreakerServices.Url);

        Assert.That(response, Is.SameAs(upstreamResponse));
        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.False);
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("upstream body"));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(7)));
    }

    [Test]
    public async Task SendAsync_TransportException_RethrownSameInstance()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        var thrown = new HttpRequestException("Connection refused");
        services.Upstream.Throw(thrown);
        using HttpClient client = services.CreateClient();

        HttpRequestException? caught = Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(BreakerServices.Url));

        Assert.That(caught, Is.SameAs(thrown));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(1));
    }

    [Test]
    public void SendAsync_ExceptionsOfEveryKind_OpenCircuit()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 4);
        Exception[] failures =
        [
            new HttpRequestException("refused"),
            new IOException("reset by peer"),
            new TimeoutException("upstream timed out"),
            new TaskCanceledException("connect timed out", new TimeoutException()),
        ];
        using HttpClient client = services.CreateClient();

        foreach (Exception failure in failures)
        {
            services.Upstream.Throw(failure);
            Exception? caught = Assert.CatchAsync(() => client.GetAsync(BreakerServices.Url));
            Assert.That(caught, Is.SameAs(failure));
        }

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task SendAsync_CallerCancels_DoesNotCount()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url, cancellation.Token);
        await cancellation.CancelAsync();

        Assert.CatchAsync<OperationCanceledException>(() => sending);
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.Zero);
    }

    [Test]
    public async Task SendAsync_CircuitOpen_DoesNotCallUpstream()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        await services.SendAsync(HttpStatusCode.InternalServerError, 2);

        await services.SendAsync(HttpStatusCode.OK, 5);

        Assert.That(services.UpstreamCalls, Is.EqualTo(2));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task SendAsync_CircuitOpen_ReturnsSyntheticProblem503()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(TimeSpan.FromSeconds(10.5));
        using HttpClient client = services.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url);

        using HttpResponseMessage response = await client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(response.RequestMessage, Is.SameAs(request));
        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.True);
        Assert.That(string.Join(",", response.Headers.GetValues(CircuitBreakerHandler.RejectionHeaderName)), Is.EqualTo("open"));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(20)), "19.5 s remain, rounded up");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));

        using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement root = problem.RootElement;
        Assert.That(root.GetProperty("status").GetInt32(), Is.EqualTo(503));
        Assert.That(root.GetProperty("title").GetString(), Is.EqualTo("Service Unavailable"));
        Assert.That(root.GetProperty("client").GetString(), Is.EqualTo(BreakerServices.ClientName));
        Assert.That(root.GetProperty("retryAfter").GetDateTimeOffset(), Is.EqualTo(services.Snapshot.NextProbeAt));
        Assert.That(root.GetProperty("detail").GetString(), Does.Contain("'github'"));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("client 'github'"), "the raw body is readable, without \\u escapes");
    }

    [Test]
    public async Task SendAsync_RetryAfterAtExactSecond_NotRoundedFurther()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(TimeSpan.FromSeconds(10));
        using HttpClient client = services.CreateClient();

        using HttpResponseMessage response = await client.GetAsync(BreakerServices.Url);

        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(20)));
    }

    [Test]
    public async Task SendAsync_CircuitOpen_LeavesRequestContentUntouched()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        using HttpClient client = services.CreateClient();
        using var content = new TrackingContent();

        using HttpResponseMessage response = await client.PostAsync(BreakerServices.Url, content);

        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.True);
        Assert.That(content.WasRead, Is.False);
        Assert.That(content.WasDisposed, Is.False);
    }

    [Test]
    public void IsRejection_Upstream503_ReturnsFalse()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);

        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.False);
    }

    [Test]
    public async Task SendAsync_BreakElapsed_SendsOneProbeAndCloses()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        await services.SendAsync(HttpStatusCode.InternalServerError, 2);

        services.Time.Advance(BreakDuration - TimeSpan.FromTicks(1));
        await services.SendAsync(HttpStatusCode.OK, 1);

        Assert.That(services.UpstreamCalls, Is.EqualTo(2), "no probe before the break ends");

        services.Time.Advance(TimeSpan.FromTicks(1));
        await services.SendAsync(HttpStatusCode.OK, 1);

        Assert.That(services.UpstreamCalls, Is.EqualTo(3));
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.Zero);
    }

    [Test]
    public async Task SendAsync_ProbeFails_ReopensForBreakDuration()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        await services.SendAsync(HttpStatusCode.InternalServerError, 2);
        services.Time.Advance(BreakDuration);

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(services.Time.GetUtcNow() + BreakDuration));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(3));
    }

    [Test]
    public async Task SendAsync_ProbeThrows_Reopens()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(BreakDuration);
        services.Upstream.Throw(new HttpRequestException("refused"));
        using HttpClient client = services.CreateClient();

        Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(BreakerServices.Url));

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task SendAsync_Probe4xx_Closes()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(BreakDuration);

        await services.SendAsync(HttpStatusCode.NotFound, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.Zero);
    }

    [Test]
    public async Task SendAsync_ProbeInFlight_RejectsOthers()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        Task<HttpResponseMessage> first = client.GetAsync(BreakerServices.Url);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        (await first).Dispose();
        services.Time.Advance(BreakDuration);

        Task<HttpResponseMessage> probe = client.GetAsync(BreakerServices.Url);
        using HttpResponseMessage other = await client.GetAsync(BreakerServices.Url);

        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen));
        Assert.That(CircuitBreakerHandler.IsRejection(other), Is.True);
        Assert.That(string.Join(",", other.Headers.GetValues(CircuitBreakerHandler.RejectionHeaderName)), Is.EqualTo("half-open"));
        Assert.That(other.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(gate.Received, Is.EqualTo(2));

        gate.Next().Respond(HttpStatusCode.OK);
        using HttpResponseMessage probeResponse = await probe;

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task SendAsync_ProbeCancelledByCaller_NextRequestProbes()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        Task<HttpResponseMessage> first = client.GetAsync(BreakerServices.Url);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        (await first).Dispose();
        services.Time.Advance(BreakDuration);
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage> cancelledProbe = client.GetAsync(BreakerServices.Url, cancellation.Token);
        await cancellation.CancelAsync();
        Assert.CatchAsync<OperationCanceledException>(() => cancelledProbe);

        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen));

        Task<HttpResponseMessage> nextProbe = client.GetAsync(BreakerServices.Url);
        Assert.That(gate.Received, Is.EqualTo(3), "the next request went to the upstream as the probe");
        gate.Next();
        gate.Next().Respond(HttpStatusCode.OK);
        using HttpResponseMessage response = await nextProbe;

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public void Send_Synchronous_GoesThroughBreaker()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        services.Status = HttpStatusCode.InternalServerError;
        using HttpClient client = services.CreateClient();

        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage failed = client.Send(new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url));
        }

        using HttpResponseMessage rejected = client.Send(new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url));

        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
        Assert.That(services.UpstreamCalls, Is.EqualTo(2));

        services.Time.Advance(BreakDuration);
        services.Status = HttpStatusCode.OK;
        using HttpResponseMessage probe = client.Send(new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url));

        Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public void Send_SynchronousException_RethrownSameInstanceAndCounted()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        var thrown = new HttpRequestException("refused");
        services.Upstream.Throw(thrown);
        using HttpClient client = services.CreateClient();

        HttpRequestException? caught = Assert.Throws<HttpRequestException>(() => client.Send(new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url)));

        Assert.That(caught, Is.SameAs(thrown));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    private sealed class TrackingContent : HttpContent
    {
        public bool WasRead { get; private set; }

        public bool WasDisposed { get; private set; }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            WasRead = true;
            return Task.CompletedTask;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            WasDisposed = true;
            base.Dispose(disposing);
        }
    }
}
