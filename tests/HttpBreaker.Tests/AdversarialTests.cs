using System.Net;
using System.Text.Json;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

/// <summary>
/// Edge cases of the behaviour contract in the README: races around the probe, unusual inner handlers, option
/// values at and past their limits, wiring variants and clocks that do not move forward steadily.
/// </summary>
public class AdversarialTests
{
    private const string Url = "http://upstream.test/";
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);
    private static readonly HttpRequestOptionsKey<CancellationTokenSource> CallerCancellation = new("caller-cancellation");

    [Test]
    public void Options_SubMillisecondBreakDuration_RejectedWithRange()
    {
        // A break shorter than a millisecond turns every failure into a probe; the message states the real minimum.
        foreach (TimeSpan breakDuration in new[] { TimeSpan.FromTicks(1), TimeSpan.FromMicroseconds(500) })
        {
            var services = new ServiceCollection();
            services.AddHttpClient("github").AddCircuitBreaker(o => o.BreakDuration = breakDuration);
            using ServiceProvider provider = services.BuildServiceProvider();

            OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(
                () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("github"), $"break of {breakDuration}");

            Assert.That(exception!.Message, Does.Contain("from 00:00:00.0010000 to 1.00:00:00"));
        }
    }

    [Test]
    public void Options_ExtremeBreakDurations_RejectedWithDetails()
    {
        foreach (TimeSpan breakDuration in new[] { TimeSpan.MaxValue, TimeSpan.MinValue })
        {
            var services = new ServiceCollection();
            services.AddHttpClient("github").AddCircuitBreaker(o => o.BreakDuration = breakDuration);
            using ServiceProvider provider = services.BuildServiceProvider();

            OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(
                () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("github"));

            Assert.That(exception!.Message, Does.Contain("BreakDuration"));
        }
    }

    [Test]
    public async Task Options_MaxFailureThreshold_IsValidAndCounts()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = int.MaxValue);

        await services.SendAsync(HttpStatusCode.InternalServerError, 3);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(3));
    }

    [Test]
    public void ConfigurationSection_UnparsableValue_ThrowsOptionsValidation()
    {
        // The README: an invalid value raises OptionsValidationException naming the client and the option.
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Breaker:BreakDuration"] = "ten seconds" })
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(configuration.GetSection("Breaker"));
        using ServiceProvider provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        Exception? exception = Assert.Catch(() => factory.CreateClient("github"));

        Assert.That(exception, Is.TypeOf<OptionsValidationException>());
        Assert.That(exception!.Message, Does.Contain("'github'"));
        Assert.That(exception.Message, Does.Contain("BreakDuration"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void NamedConfigure_AllClientsRegistration_ClientOptionsWin(bool clientFirst)
    {
        // CircuitBreakerOptions documents Configure<CircuitBreakerOptions>("github", ...) as the way to set the
        // options of one client, and by the README those win over every-client options in any order.
        var services = new ServiceCollection();
        if (clientFirst)
        {
            services.Configure<CircuitBreakerOptions>("github", o => o.FailureThreshold = 2);
            services.AddHttpClient("github").AddCircuitBreaker();
            services.AddHttpClient().AddCircuitBreaker(o => o.FailureThreshold = 10);
        }
        else
        {
            services.AddHttpClient().AddCircuitBreaker(o => o.FailureThreshold = 10);
            services.AddHttpClient("github").AddCircuitBreaker();
            services.Configure<CircuitBreakerOptions>("github", o => o.FailureThreshold = 2);
        }

        using ServiceProvider provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>();

        Assert.That(options.Get("github").FailureThreshold, Is.EqualTo(2));
        Assert.That(options.Get("other").FailureThreshold, Is.EqualTo(10));
    }

    [Test]
    public void ClientNames_DifferOnlyInCase_SeparateCircuits()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker();
        services.AddHttpClient("GitHub").AddCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient lower = factory.CreateClient("github");
        using HttpClient mixed = factory.CreateClient("GitHub");

        registry.Isolate("GitHub");

        Assert.That(registry.GetCircuits().Select(c => c.Name), Is.EquivalentTo(new[] { "GitHub", "github" }));
        Assert.That(registry.TryGetCircuit("github", out CircuitSnapshot? lowerCircuit), Is.True);
        Assert.That(lowerCircuit!.State, Is.EqualTo(CircuitState.Closed));
        Assert.Throws<ArgumentException>(() => registry.Reset("GITHUB"));
    }

    [Test]
    public async Task IsRejection_Upstream503WithBreakerHeader_ReturnsFalse()
    {
        // An upstream that itself sits behind HttpBreaker, or a proxy, can pass a rejection on. The request was
        // sent, so IsRejection, documented as "nothing was sent", must not claim the response as its own.
        using var services = BreakerServices.Create();
        services.Upstream.Respond(_ =>
        {
            var forwarded = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
            forwarded.Headers.TryAddWithoutValidation(CircuitBreakerHandler.RejectionHeaderName, "open");
            return forwarded;
        });
        using HttpClient client = services.CreateClient();

        using HttpResponseMessage response = await client.GetAsync(BreakerServices.Url);

        Assert.That(services.UpstreamCalls, Is.EqualTo(1));
        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.False);
    }

    [Test]
    public async Task Open_WallClockStepsBack_ProbesAfterBreak()
    {
        // A break is a duration. When the wall clock is corrected backwards by an hour while the circuit is
        // open, the circuit should still admit a probe once BreakDuration has really elapsed.
        var clock = new SteppingClock(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        using var mock = new MockHttpMessageHandler();
        MockedRequest upstream = mock.When("*").Respond(HttpStatusCode.InternalServerError);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddHttpClient("github").ConfigurePrimaryHttpMessageHandler(() => mock).AddCircuitBreaker(o =>
        {
            o.FailureThreshold = 1;
            o.BreakDuration = BreakDuration;
        });
        using ServiceProvider provider = services.BuildServiceProvider();
        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("github");
        using HttpResponseMessage failed = await client.GetAsync(Url);

        clock.StepWallClock(TimeSpan.FromHours(-1));
        clock.Elapse(BreakDuration + TimeSpan.FromSeconds(1));
        using HttpResponseMessage probe = await client.GetAsync(Url);

        Assert.That(CircuitBreakerHandler.IsRejection(probe), Is.False, "31 s have elapsed since the circuit opened");
        Assert.That(mock.GetMatchCount(upstream), Is.EqualTo(2));
    }

    [Test]
    public async Task Open_FractionalBreak_RetryAfterRoundedUp()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.BreakDuration = TimeSpan.FromMilliseconds(1500);
        });
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        using HttpClient client = services.CreateClient();

        using HttpResponseMessage atOpen = await client.GetAsync(BreakerServices.Url);
        services.Time.Advance(TimeSpan.FromMilliseconds(1499));
        using HttpResponseMessage lastTick = await client.GetAsync(BreakerServices.Url);

        Assert.That(atOpen.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(lastTick.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(services.UpstreamCalls, Is.EqualTo(1));
    }

    [Test]
    public async Task HalfOpen_Rejection_BodyNamesStateAndDelay()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> probe = client.GetAsync(BreakerServices.Url);
        using var request = new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url);

        using HttpResponseMessage rejected = await client.SendAsync(request);
        using JsonDocument problem = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());

        Assert.That(rejected.RequestMessage, Is.SameAs(request));
        Assert.That(rejected.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(problem.RootElement.GetProperty("status").GetInt32(), Is.EqualTo(503));
        Assert.That(problem.RootElement.GetProperty("state").GetString(), Is.EqualTo("half-open"));
        Assert.That(problem.RootElement.GetProperty("client").GetString(), Is.EqualTo(BreakerServices.ClientName));
        Assert.That(problem.RootElement.GetProperty("retryAfterSeconds").GetInt32(), Is.EqualTo(1));

        gate.Next().Respond(HttpStatusCode.OK);
        (await probe).Dispose();
    }

    [Test]
    public void SendAsync_AsyncFailure_KeepsOriginalStackTrace()
    {
        var inner = new ScriptedHandler((_, _) => ThrowFromUpstreamAsync());
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2, inner);
        using HttpClient client = services.CreateClient();

        HttpRequestException? caught = Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(BreakerServices.Url));

        Assert.That(caught!.StackTrace, Does.Contain(nameof(ThrowFromUpstreamAsync)));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(1));
    }

    [Test]
    public void HalfOpen_ProbeThrowsSynchronously_Reopens()
    {
        int calls = 0;
        var thrown = new InvalidOperationException("inner handler failed before returning a task");
        var inner = new ScriptedHandler((_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw thrown;
        });
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, inner);
        using HttpClient client = services.CreateClient();
        Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync(BreakerServices.Url));
        services.Time.Advance(BreakDuration);

        Exception? caught = Assert.CatchAsync(() => client.GetAsync(BreakerServices.Url));

        Assert.That(caught, Is.SameAs(thrown));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(2));
        services.Time.Advance(BreakDuration);
        Assert.CatchAsync(() => client.GetAsync(BreakerServices.Url));
        Assert.That(calls, Is.EqualTo(3), "each break ends in one probe, so the circuit is not stuck");
    }

    [Test]
    public async Task HalfOpen_ProbeReturnsNull_CircuitNotStuck()
    {
        // Below the breaker the factory adds its logging handler, which throws on a null response, so the breaker
        // records an exception. Either way the probe must end: one break later the next request probes again.
        int calls = 0;
        bool returnNull = false;
        var inner = new ScriptedHandler((_, _) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult<HttpResponseMessage>(returnNull ? null! : new HttpResponseMessage(HttpStatusCode.InternalServerError));
        });
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, inner);
        using HttpClient client = services.CreateClient();
        (await client.GetAsync(BreakerServices.Url)).Dispose();
        services.Time.Advance(BreakDuration);
        returnNull = true;

        Assert.CatchAsync(() => client.GetAsync(BreakerServices.Url));
        returnNull = false;
        services.Time.Advance(BreakDuration);
        using HttpResponseMessage next = await client.GetAsync(BreakerServices.Url);

        Assert.That(CircuitBreakerHandler.IsRejection(next), Is.False);
        Assert.That(calls, Is.EqualTo(3));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task HalfOpen_ProbeForeignCancellation_Reopens()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        using var innerTimeout = new CancellationTokenSource();
        await innerTimeout.CancelAsync();

        Task<HttpResponseMessage> probe = client.GetAsync(BreakerServices.Url);
        gate.Next().Completion.SetCanceled(innerTimeout.Token);

        Assert.CatchAsync<OperationCanceledException>(() => probe);
        Assert.That(services.State, Is.EqualTo(CircuitState.Open), "a cancellation the caller did not request is a failure");
    }

    [Test]
    public async Task Send_ProbeCancelledByCaller_NextProbes()
    {
        using var release = new ManualResetEventSlim();
        bool fail = true;
        var inner = new ScriptedHandler(
            (_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError)),
            (_, token) =>
            {
                if (fail)
                {
                    return new HttpResponseMessage(HttpStatusCode.InternalServerError);
                }

                release.Wait(token);
                return new HttpResponseMessage(HttpStatusCode.OK);
            });
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, inner);
        using HttpClient client = services.CreateClient();
        client.Send(new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url)).Dispose();
        services.Time.Advance(BreakDuration);
        fail = false;
        using var cancellation = new CancellationTokenSource();

        Task probe = Task.Run(() => client.Send(new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url), cancellation.Token));
        await WaitForStateAsync(services, CircuitState.HalfOpen);
        await cancellation.CancelAsync();
        Assert.CatchAsync<OperationCanceledException>(() => probe);
        release.Set();
        using HttpResponseMessage next = client.Send(new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url));

        Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    [Repeat(25)]
    public async Task HalfOpen_ProbeFailsWhileResetRuns_EndsClosed()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> probe = client.GetAsync(BreakerServices.Url);
        GatedHandler.PendingRequest pending = gate.Next();

        using var barrier = new Barrier(2);
        Task failing = Task.Run(() =>
        {
            barrier.SignalAndWait();
            pending.Completion.SetResult(new HttpResponseMessage(HttpStatusCode.InternalServerError));
        });
        Task resetting = Task.Run(() =>
        {
            barrier.SignalAndWait();
            services.Registry.Reset(BreakerServices.ClientName);
        });
        await Task.WhenAll(failing, resetting);
        (await probe).Dispose();

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed), "the reset is the last word once it has returned");
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.Zero);
    }

    [Test]
    [Repeat(25)]
    public async Task HalfOpen_ProbeSucceedsWhileIsolateRuns_EndsIsolated()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> probe = client.GetAsync(BreakerServices.Url);
        GatedHandler.PendingRequest pending = gate.Next();

        using var barrier = new Barrier(2);
        Task succeeding = Task.Run(() =>
        {
            barrier.SignalAndWait();
            pending.Respond(HttpStatusCode.OK);
        });
        Task isolating = Task.Run(() =>
        {
            barrier.SignalAndWait();
            services.Registry.Isolate(BreakerServices.ClientName);
        });
        await Task.WhenAll(succeeding, isolating);
        (await probe).Dispose();
        using HttpResponseMessage after = await client.GetAsync(BreakerServices.Url);

        Assert.That(services.State, Is.EqualTo(CircuitState.Isolated));
        Assert.That(after.Headers.GetValues(CircuitBreakerHandler.RejectionHeaderName), Is.EqualTo(new[] { "isolated" }));
    }

    [Test]
    [Repeat(10)]
    public async Task Closed_ThresholdOneConcurrentFailures_OpensOnce()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        services.Status = HttpStatusCode.InternalServerError;
        using HttpClient client = services.CreateClient();

        Task<HttpResponseMessage>[] racing = await Racing.StartTogetherAsync(32, () => client.GetAsync(BreakerServices.Url));
        HttpResponseMessage[] responses = await Task.WhenAll(racing);

        Assert.That(services.Logs.Entries.Count(entry => entry.EventId == 1), Is.EqualTo(1));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.InRange(1, 32), "failures that raced the opening may be counted too");
        Assert.That(responses.Count(response => !CircuitBreakerHandler.IsRejection(response)), Is.EqualTo(services.UpstreamCalls));
        foreach (HttpResponseMessage response in responses)
        {
            response.Dispose();
        }
    }

    [Test]
    [Repeat(10)]
    public async Task MixedOutcomes_UnderLoad_NeverWedgedHalfOpen()
    {
        // Outcomes cycle through success, 5xx, the caller's own cancellation and a transport error while time
        // moves past the break again and again. Afterwards, with nothing in flight, the next request must reach
        // the upstream: a half-open circuit with no probe in flight would reject it.
        int sequence = 0;
        var inner = new ScriptedHandler(async (request, token) =>
        {
            await Task.Yield();
            switch (Interlocked.Increment(ref sequence) % 4)
            {
                case 0:
                    return new HttpResponseMessage(HttpStatusCode.OK);
                case 1:
                    return new HttpResponseMessage(HttpStatusCode.BadGateway);
                case 2:
                    if (request.Options.TryGetValue(CallerCancellation, out CancellationTokenSource? caller))
                    {
                        await caller.CancelAsync();
                    }

                    token.ThrowIfCancellationRequested();
                    throw new HttpRequestException("the caller's cancellation did not reach the handler");
                default:
                    throw new HttpRequestException("connection reset");
            }
        });
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 2;
                o.BreakDuration = TimeSpan.FromSeconds(1);
            },
            inner);
        using HttpClient client = services.CreateClient();

        Task<bool>[] racing = await Racing.StartTogetherAsync(64, async () =>
        {
            for (int i = 0; i < 20; i++)
            {
                services.Time.Advance(TimeSpan.FromMilliseconds(200));
                await SendIgnoringFailuresAsync(client);
            }

            return true;
        });
        await Task.WhenAll(racing);

        services.Time.Advance(TimeSpan.FromSeconds(2));
        int before = Volatile.Read(ref sequence);
        await SendIgnoringFailuresAsync(client);

        Assert.That(Volatile.Read(ref sequence), Is.EqualTo(before + 1), $"state was {services.State}");
    }

    [Test]
    public async Task StaleProbe_AfterResetAndNewBreak_DoesNotTouchNewProbe()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> oldProbe = client.GetAsync(BreakerServices.Url);
        GatedHandler.PendingRequest oldPending = gate.Next();
        services.Registry.Reset(BreakerServices.ClientName);
        await gate.FailThroughAsync(client);
        services.Time.Advance(BreakDuration);
        Task<HttpResponseMessage> newProbe = client.GetAsync(BreakerServices.Url);
        GatedHandler.PendingRequest newPending = gate.Next();

        oldPending.Respond(HttpStatusCode.InternalServerError);
        (await oldProbe).Dispose();
        using HttpResponseMessage whileNewProbe = await client.GetAsync(BreakerServices.Url);

        Assert.That(services.State, Is.EqualTo(CircuitState.HalfOpen));
        Assert.That(whileNewProbe.Headers.GetValues(CircuitBreakerHandler.RejectionHeaderName), Is.EqualTo(new[] { "half-open" }));
        newPending.Respond(HttpStatusCode.OK);
        (await newProbe).Dispose();
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task RotatedHandler_ProbeInFlight_NewChainSeesHalfOpen()
    {
        var gate = new GatedHandler();
        var services = new ServiceCollection();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        services.AddSingleton<TimeProvider>(time);
        services.AddHttpClient("github").ConfigurePrimaryHttpMessageHandler(() => gate).AddCircuitBreaker(o => o.FailureThreshold = 1);
        using ServiceProvider provider = services.BuildServiceProvider();
        using var before = new HttpMessageInvoker(RegistrationTests.BuildHandlerChain(provider, "github"), disposeHandler: false);
        using var after = new HttpMessageInvoker(RegistrationTests.BuildHandlerChain(provider, "github"), disposeHandler: false);
        Task<HttpResponseMessage> failing = before.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url), CancellationToken.None);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        (await failing).Dispose();
        time.Advance(BreakDuration);

        Task<HttpResponseMessage> probe = before.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url), CancellationToken.None);
        using HttpResponseMessage rejected = await after.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url), CancellationToken.None);
        gate.Next().Respond(HttpStatusCode.OK);
        (await probe).Dispose();
        Task<HttpResponseMessage> passing = after.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url), CancellationToken.None);
        gate.Next().Respond(HttpStatusCode.OK);
        using HttpResponseMessage passed = await passing;

        Assert.That(rejected.Headers.GetValues(CircuitBreakerHandler.RejectionHeaderName), Is.EqualTo(new[] { "half-open" }));
        Assert.That(CircuitBreakerHandler.IsRejection(passed), Is.False);
    }

    [Test]
    public async Task ProviderDisposed_RequestInFlight_ResponseReturnedAndRecorded()
    {
        var gate = new GatedHandler();
        var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        HttpClient client = services.CreateClient();
        ICircuitBreakerRegistry registry = services.Registry;
        Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url);

        services.Dispose();
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        using HttpResponseMessage response = await sending;
        using HttpResponseMessage afterwards = await client.GetAsync(BreakerServices.Url);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(registry.TryGetCircuit(BreakerServices.ClientName, out CircuitSnapshot? snapshot), Is.True);
        Assert.That(snapshot!.State, Is.EqualTo(CircuitState.Open));
        Assert.That(CircuitBreakerHandler.IsRejection(afterwards), Is.True);
        client.Dispose();
    }

    [Test]
    public async Task Closed_UnknownStatusAbove5xx_ResponseUnchanged()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        using var upstreamResponse = new HttpResponseMessage((HttpStatusCode)599);
        services.Upstream.Respond(_ => upstreamResponse);
        using HttpClient client = services.CreateClient();

        HttpResponseMessage response = await client.GetAsync(BreakerServices.Url);

        Assert.That(response, Is.SameAs(upstreamResponse));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open), "599 is a 5xx status");
    }

    private static async Task SendIgnoringFailuresAsync(HttpClient client)
    {
        using var caller = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url);
        request.Options.Set(CallerCancellation, caller);
        try
        {
            using HttpResponseMessage response = await client.SendAsync(request, caller.Token);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            // Failures and cancellations are part of the traffic mix; only the final state matters.
        }
    }

    private static async Task WaitForStateAsync(BreakerServices services, CircuitState state)
    {
        // Polls the registry, which a test on another thread changes; the wait is bounded so a regression fails.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (services.State != state)
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }

    private static async Task<HttpResponseMessage> ThrowFromUpstreamAsync()
    {
        await Task.Yield();
        throw new HttpRequestException("connection reset by the upstream");
    }

    /// <summary>A terminal handler whose asynchronous and synchronous sends run the given functions.</summary>
    private sealed class ScriptedHandler(
        Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> sendAsync,
        Func<HttpRequestMessage, CancellationToken, HttpResponseMessage>? send = null) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            sendAsync(request, cancellationToken);

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
            send is null ? base.Send(request, cancellationToken) : send(request, cancellationToken);
    }

    /// <summary>
    /// A clock whose wall time can be stepped, as an NTP correction does, while its monotonic timestamp only
    /// moves forward.
    /// </summary>
    private sealed class SteppingClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _wallClock = start;
        private long _timestamp;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override DateTimeOffset GetUtcNow() => _wallClock;

        public override long GetTimestamp() => _timestamp;

        public void StepWallClock(TimeSpan step) => _wallClock += step;

        public void Elapse(TimeSpan elapsed)
        {
            _wallClock += elapsed;
            _timestamp += elapsed.Ticks;
        }
    }
}
