using System.Net;
using System.Net.Http.Headers;
using HttpBreaker.Tests.Support;

namespace HttpBreaker.Tests;

/// <summary>
/// Recovery rules: upstream Retry-After, backoff with jitter, several probes and the probe timeout.
/// </summary>
public class RecoveryPolicyTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    [Test]
    public async Task RetryAfterSeconds_LengthensBreak()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        services.Upstream.Respond(_ => Task.FromResult(Failure(new RetryConditionHeaderValue(TimeSpan.FromSeconds(120)))));

        await services.SendAsync(HttpStatusCode.ServiceUnavailable, 1);

        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(services.Time.GetUtcNow() + TimeSpan.FromSeconds(120)));
    }

    [Test]
    public async Task RetryAfterDate_LengthensBreak()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        DateTimeOffset until = services.Time.GetUtcNow() + TimeSpan.FromSeconds(90);
        services.Upstream.Respond(_ => Task.FromResult(Failure(new RetryConditionHeaderValue(until))));

        await services.SendAsync(HttpStatusCode.ServiceUnavailable, 1);

        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(until));
    }

    [Test]
    public async Task RetryAfter_CappedByMaxBreakDuration()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.MaxBreakDuration = TimeSpan.FromMinutes(1);
        });
        services.Upstream.Respond(_ => Task.FromResult(Failure(new RetryConditionHeaderValue(TimeSpan.FromHours(1)))));

        await services.SendAsync(HttpStatusCode.ServiceUnavailable, 1);

        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(services.Time.GetUtcNow() + TimeSpan.FromMinutes(1)));
    }

    [Test]
    public async Task RetryAfter_DefaultCapIsFiveMinutes()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        services.Upstream.Respond(_ => Task.FromResult(Failure(new RetryConditionHeaderValue(TimeSpan.FromHours(1)))));

        await services.SendAsync(HttpStatusCode.ServiceUnavailable, 1);

        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(services.Time.GetUtcNow() + TimeSpan.FromMinutes(5)));
    }

    [Test]
    public async Task RetryAfter_Shorter_KeepsBreak()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        services.Upstream.Respond(_ => Task.FromResult(Failure(new RetryConditionHeaderValue(TimeSpan.FromSeconds(5)))));

        await services.SendAsync(HttpStatusCode.ServiceUnavailable, 1);

        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(services.Time.GetUtcNow() + BreakDuration));
    }

    [Test]
    public async Task RetryAfter_HonorOff_Ignored()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.HonorRetryAfter = false;
        });
        services.Upstream.Respond(_ => Task.FromResult(Failure(new RetryConditionHeaderValue(TimeSpan.FromSeconds(120)))));

        await services.SendAsync(HttpStatusCode.ServiceUnavailable, 1);

        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(services.Time.GetUtcNow() + BreakDuration));
    }

    [Test]
    public async Task RetryAfter_OnFailedProbe_LengthensReopen()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(BreakDuration);
        services.Upstream.Respond(_ => Task.FromResult(Failure(new RetryConditionHeaderValue(TimeSpan.FromSeconds(100)))));

        await services.SendAsync(HttpStatusCode.ServiceUnavailable, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(services.Time.GetUtcNow() + TimeSpan.FromSeconds(100)));
    }

    [Test]
    public async Task Backoff_MultipliesEachReopenUntilClose()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.BreakDurationMultiplier = 2;
            o.MaxBreakDuration = TimeSpan.FromSeconds(100);
        });
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        var breaks = new List<TimeSpan> { BreakOf(services) };

        for (int i = 0; i < 3; i++)
        {
            services.Time.Advance(breaks[^1]);
            await services.SendAsync(HttpStatusCode.InternalServerError, 1);
            breaks.Add(BreakOf(services));
        }

        Assert.That(breaks, Is.EqualTo(new[] { 30, 60, 100, 100 }.Select(s => TimeSpan.FromSeconds(s))));

        services.Time.Advance(breaks[^1]);
        await services.SendAsync(HttpStatusCode.OK, 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(BreakOf(services), Is.EqualTo(BreakDuration), "a close resets the backoff");
    }

    [Test]
    public async Task Jitter_SpreadsBreakWithinFraction()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.BreakDurationJitter = 0.2;
        });
        var breaks = new HashSet<TimeSpan>();

        for (int i = 0; i < 20; i++)
        {
            await services.SendAsync(HttpStatusCode.InternalServerError, 1);
            TimeSpan breakDuration = BreakOf(services);
            Assert.That(breakDuration, Is.InRange(TimeSpan.FromSeconds(24), TimeSpan.FromSeconds(36)));
            breaks.Add(breakDuration);
            services.Registry.Reset(BreakerServices.ClientName);
        }

        Assert.That(breaks, Has.Count.GreaterThan(1), "twenty draws are not all equal");
    }

    [Test]
    public async Task PermittedProbes_AdmitsThatManyAtOnce()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.PermittedProbes = 3;
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);

        Task<HttpResponseMessage>[] probes = Enumerable.Range(0, 3).Select(_ => client.GetAsync(BreakerServices.Url)).ToArray();
        using HttpResponseMessage fourth = await client.GetAsync(BreakerServices.Url);

        Assert.That(gate.Received, Is.EqualTo(4), "one failure, then three probes");
        Assert.That(CircuitBreakerHandler.IsRejection(fourth), Is.True);

        gate.Next().Respond(HttpStatusCode.OK);
        gate.Next().Respond(HttpStatusCode.OK);
        await Task.WhenAll(probes.Take(2));
        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen), "two of three successes");

        gate.Next().Respond(HttpStatusCode.OK);
        await Task.WhenAll(probes);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task PermittedProbes_AnyFailureReopens()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.PermittedProbes = 3;
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage>[] probes = Enumerable.Range(0, 3).Select(_ => client.GetAsync(BreakerServices.Url)).ToArray();

        gate.Next().Respond(HttpStatusCode.OK);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        gate.Next().Respond(HttpStatusCode.OK);
        await Task.WhenAll(probes);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task ProbeSuccessThreshold_AboveProbes_NeedsSuccessesInTurn()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.ProbeSuccessThreshold = 3;
        });
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(BreakDuration);

        await services.SendAsync(HttpStatusCode.OK, 2);
        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen));

        await services.SendAsync(HttpStatusCode.OK, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.UpstreamCalls, Is.EqualTo(4));
    }

    [Test]
    public async Task ProbeSuccessThreshold_BelowProbes_ClosesEarly()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.PermittedProbes = 3;
                o.ProbeSuccessThreshold = 1;
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage>[] probes = Enumerable.Range(0, 3).Select(_ => client.GetAsync(BreakerServices.Url)).ToArray();

        gate.Next().Respond(HttpStatusCode.OK);
        (await probes[0]).Dispose();
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));

        gate.Next().Respond(HttpStatusCode.InternalServerError);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        await Task.WhenAll(probes);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed), "late probes of the closed phase are stale");
    }

    [Test]
    public async Task ProbeTimeout_HungProbe_ReopensFromExpiry()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.ProbeTimeout = TimeSpan.FromSeconds(10);
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> hung = client.GetAsync(BreakerServices.Url);
        DateTimeOffset expiry = services.Time.GetUtcNow() + TimeSpan.FromSeconds(10);

        services.Time.Advance(TimeSpan.FromSeconds(15));
        using HttpResponseMessage noticed = await client.GetAsync(BreakerServices.Url);

        Assert.That(CircuitBreakerHandler.IsRejection(noticed), Is.True);
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Snapshot.OpenedAt, Is.EqualTo(expiry));
        Assert.That(services.Snapshot.NextProbeAt, Is.EqualTo(expiry + BreakDuration));
        Assert.That(services.Logs.Entries.Count(e => e.EventId == 9), Is.EqualTo(1));

        gate.Next().Respond(HttpStatusCode.OK);
        (await hung).Dispose();

        Assert.That(services.State, Is.EqualTo(CircuitState.Open), "the expired probe's late success is stale");
    }

    [Test]
    public async Task ProbeTimeout_LateResultUnnoticed_StillReopens()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.ProbeTimeout = TimeSpan.FromSeconds(10);
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> late = client.GetAsync(BreakerServices.Url);
        DateTimeOffset expiry = services.Time.GetUtcNow() + TimeSpan.FromSeconds(10);

        services.Time.Advance(TimeSpan.FromSeconds(12));
        gate.Next().Respond(HttpStatusCode.OK);
        using HttpResponseMessage response = await late;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the caller still gets the late response");
        Assert.That(services.State, Is.EqualTo(CircuitState.Open), "a probe past its timeout has failed");
        Assert.That(services.Snapshot.OpenedAt, Is.EqualTo(expiry));
    }

    [Test]
    public async Task ProbeTimeout_LongExpired_NextRequestProbesAtOnce()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.ProbeTimeout = TimeSpan.FromSeconds(10);
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> hung = client.GetAsync(BreakerServices.Url);

        services.Time.Advance(TimeSpan.FromSeconds(10) + BreakDuration);
        Task<HttpResponseMessage> nextProbe = client.GetAsync(BreakerServices.Url);

        Assert.That(gate.Received, Is.EqualTo(3));
        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen));

        gate.Next().Respond(HttpStatusCode.OK);
        gate.Next().Respond(HttpStatusCode.OK);
        await Task.WhenAll(hung, nextProbe);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    [Repeat(10)]
    public async Task PermittedProbes_RacingCallers_NeverMoreInFlight()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.PermittedProbes = 3;
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);

        Task<HttpResponseMessage>[] racing = await Racing.StartTogetherAsync(64, () => client.GetAsync(BreakerServices.Url));

        Assert.That(gate.Received, Is.EqualTo(4));

        for (int i = 0; i < 3; i++)
        {
            gate.Next().Respond(HttpStatusCode.OK);
        }

        HttpResponseMessage[] responses = await Task.WhenAll(racing);
        Assert.That(responses.Count(r => !CircuitBreakerHandler.IsRejection(r)), Is.EqualTo(3));
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    [Repeat(10)]
    public async Task HalfOpen_RacingCancellations_NeverStuck()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.PermittedProbes = 2;
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage>[] racing = await Racing.StartTogetherAsync(32, () => client.GetAsync(BreakerServices.Url, cancellation.Token));
        await cancellation.CancelAsync();
        foreach (Task<HttpResponseMessage> task in racing)
        {
            try
            {
                (await task).Dispose();
            }
            catch (OperationCanceledException)
            {
                // The probes end cancelled; the rejected calls had already completed.
            }
        }

        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen));

        Task<HttpResponseMessage> freshProbe = client.GetAsync(BreakerServices.Url);
        gate.TakeNewest().Respond(HttpStatusCode.OK);
        Task<HttpResponseMessage> secondProbe = client.GetAsync(BreakerServices.Url);
        gate.TakeNewest().Respond(HttpStatusCode.OK);
        await Task.WhenAll(freshProbe, secondProbe);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed), "cancelled probes gave their slots back");
    }

    [Test]
    [Repeat(10)]
    public async Task HalfOpen_RacingProbesTimeOut_CircuitRecovers()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.PermittedProbes = 2;
                o.Timeout = TimeSpan.FromSeconds(5);
            },
            gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);

        Task<HttpResponseMessage>[] racing = await Racing.StartTogetherAsync(32, () => client.GetAsync(BreakerServices.Url));
        services.Time.Advance(TimeSpan.FromSeconds(5));
        int timedOut = 0;
        foreach (Task<HttpResponseMessage> task in racing)
        {
            try
            {
                (await task).Dispose();
            }
            catch (TaskCanceledException exception) when (exception.InnerException is TimeoutException)
            {
                timedOut++;
            }
        }

        Assert.That(timedOut, Is.EqualTo(2), "both probes hit the breaker's timeout");
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));

        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> first = client.GetAsync(BreakerServices.Url);
        gate.TakeNewest().Respond(HttpStatusCode.OK);
        Task<HttpResponseMessage> second = client.GetAsync(BreakerServices.Url);
        gate.TakeNewest().Respond(HttpStatusCode.OK);
        await Task.WhenAll(first, second);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    private static HttpResponseMessage Failure(RetryConditionHeaderValue retryAfter)
    {
        var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter = retryAfter;
        return response;
    }

    private static TimeSpan BreakOf(BreakerServices services) =>
        services.Snapshot.NextProbeAt.GetValueOrDefault() - services.Snapshot.OpenedAt.GetValueOrDefault();
}
