using System.Net;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

/// <summary>
/// Trip rules beyond consecutive failures: the ratio window, slow calls, the attempt timeout and classification.
/// </summary>
public class FailurePolicyTests
{
    private static void RatioRule(CircuitBreakerOptions options)
    {
        options.FailureThreshold = 0;
        options.FailureRatio = 0.5;
        options.MinimumThroughput = 10;
        options.SamplingDuration = TimeSpan.FromSeconds(10);
    }

    [Test]
    public async Task Ratio_ReachedWithThroughput_Opens()
    {
        using var services = BreakerServices.Create(RatioRule);

        await services.SendAsync(HttpStatusCode.OK, 5);
        await services.SendAsync(HttpStatusCode.InternalServerError, 4);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed), "9 outcomes are below the minimum throughput");

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Logs.Entries.Single(e => e.EventId == 8).Message, Does.Contain("5 failures in 10 requests"));
    }

    [Test]
    public async Task Ratio_BelowThreshold_StaysClosed()
    {
        using var services = BreakerServices.Create(RatioRule);

        await services.SendAsync(HttpStatusCode.OK, 11);
        await services.SendAsync(HttpStatusCode.InternalServerError, 10);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed), "10 of 21 is below one half");
    }

    [Test]
    public async Task Ratio_IgnoredOutcomes_CountInNeitherSide()
    {
        using var services = BreakerServices.Create(RatioRule);

        await services.SendAsync(HttpStatusCode.NotFound, 50);
        await services.SendAsync(HttpStatusCode.OK, 5);
        await services.SendAsync(HttpStatusCode.InternalServerError, 5);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task Ratio_OldOutcomesAgeOut()
    {
        using var services = BreakerServices.Create(RatioRule);

        await services.SendAsync(HttpStatusCode.InternalServerError, 9);
        services.Time.Advance(TimeSpan.FromSeconds(10));
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed), "the first nine failures left the window");

        await services.SendAsync(HttpStatusCode.InternalServerError, 9);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task Ratio_BucketsAgeOutOneAtATime()
    {
        using var services = BreakerServices.Create(RatioRule);

        await services.SendAsync(HttpStatusCode.OK, 10);
        services.Time.Advance(TimeSpan.FromSeconds(5));
        await services.SendAsync(HttpStatusCode.InternalServerError, 9);
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed), "9 of 19");

        services.Time.Advance(TimeSpan.FromSeconds(5));
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open), "the successes aged out, the failures did not");
    }

    [Test]
    public async Task BothRules_EitherOneOpens()
    {
        using var services = BreakerServices.Create(o =>
        {
            RatioRule(o);
            o.FailureThreshold = 3;
        });

        await services.SendAsync(HttpStatusCode.InternalServerError, 3);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open), "the consecutive rule opened it before the ratio had throughput");

        services.Registry.Reset(BreakerServices.ClientName);
        for (int i = 0; i < 5; i++)
        {
            await services.SendAsync(HttpStatusCode.InternalServerError, 2);
            await services.SendAsync(HttpStatusCode.OK, 1);
        }

        Assert.That(services.State, Is.EqualTo(CircuitState.Open), "the ratio rule opened it without three in a row");
    }

    [Test]
    public async Task Ratio_WindowStartsEmptyAfterClose()
    {
        using var services = BreakerServices.Create(RatioRule);
        await services.SendAsync(HttpStatusCode.InternalServerError, 10);
        services.Time.Advance(TimeSpan.FromSeconds(30));

        await services.SendAsync(HttpStatusCode.OK, 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 8);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task SlowCall_SuccessCountsAsFailure()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 2;
                o.SlowCallDuration = TimeSpan.FromSeconds(2);
            },
            gate);
        using HttpClient client = services.CreateClient();

        for (int i = 0; i < 2; i++)
        {
            Task<HttpResponseMessage> slow = client.GetAsync(BreakerServices.Url);
            services.Time.Advance(TimeSpan.FromSeconds(2.5));
            gate.Next().Respond(HttpStatusCode.OK);
            using HttpResponseMessage response = await slow;
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the caller still gets the response");
        }

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task SlowCall_AtLimit_CountsAsSuccess()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.SlowCallDuration = TimeSpan.FromSeconds(2);
            },
            gate);
        using HttpClient client = services.CreateClient();

        Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url);
        services.Time.Advance(TimeSpan.FromSeconds(2));
        gate.Next().Respond(HttpStatusCode.OK);
        (await sending).Dispose();

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task Timeout_CancelsAttemptAndCountsFailure()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.Timeout = TimeSpan.FromSeconds(3);
            },
            gate);
        using HttpClient client = services.CreateClient();

        Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url);
        services.Time.Advance(TimeSpan.FromSeconds(3));

        TaskCanceledException? exception = Assert.ThrowsAsync<TaskCanceledException>(() => sending);
        Assert.That(exception!.InnerException, Is.TypeOf<TimeoutException>());
        Assert.That(exception.Message, Does.Contain("CircuitBreakerOptions.Timeout of 3 seconds"));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.Logs.Entries.Count(e => e.EventId == 10), Is.EqualTo(1));
    }

    [Test]
    public async Task Timeout_NotReached_PassesResponse()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.Timeout = TimeSpan.FromSeconds(3), gate);
        using HttpClient client = services.CreateClient();

        Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url);
        services.Time.Advance(TimeSpan.FromSeconds(2));
        gate.Next().Respond(HttpStatusCode.Accepted);
        using HttpResponseMessage response = await sending;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        Assert.That(services.Snapshot.ConsecutiveFailures, Is.Zero);
    }

    [Test]
    public async Task Timeout_CallerCancels_DoesNotCount()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.Timeout = TimeSpan.FromSeconds(3);
            },
            gate);
        using HttpClient client = services.CreateClient();
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url, cancellation.Token);
        await cancellation.CancelAsync();

        Exception? exception = Assert.CatchAsync(() => sending);
        Assert.That(exception, Is.InstanceOf<OperationCanceledException>());
        Assert.That(exception!.InnerException, Is.Not.TypeOf<TimeoutException>());
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public void Timeout_SynchronousSend_Throws()
    {
        var blocking = new BlockingSendHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.FailureThreshold = 1;
                o.Timeout = TimeSpan.FromSeconds(3);
            },
            blocking);
        using HttpClient client = services.CreateClient();
        blocking.OnBlocked = () => services.Time.Advance(TimeSpan.FromSeconds(3));

        TaskCanceledException? exception = Assert.Throws<TaskCanceledException>(() => client.Send(new HttpRequestMessage(HttpMethod.Get, BreakerServices.Url)));

        Assert.That(exception!.InnerException, Is.TypeOf<TimeoutException>());
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [TestCase(HttpStatusCode.TooManyRequests, CircuitState.Open)]
    [TestCase(HttpStatusCode.RequestTimeout, CircuitState.Open)]
    [TestCase(HttpStatusCode.NotFound, CircuitState.Closed)]
    [TestCase(HttpStatusCode.BadGateway, CircuitState.Open)]
    public async Task FailureStatusCodes_ListDecides(HttpStatusCode status, CircuitState expected)
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.FailureStatusCodes = "500-599, 408,429";
        });

        await services.SendAsync(status, 1);

        Assert.That(services.State, Is.EqualTo(expected));
    }

    [Test]
    public async Task FailureStatusCodes_Unlisted5xx_NeitherCountsNorResets()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 2;
            o.FailureStatusCodes = "502-504";
        });

        await services.SendAsync(HttpStatusCode.BadGateway, 1);
        await services.SendAsync(HttpStatusCode.InternalServerError, 3);

        Assert.That(services.Snapshot.ConsecutiveFailures, Is.EqualTo(1));
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task FailureStatusCodes_BindFromConfiguration()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["FailureThreshold"] = "1",
                ["FailureStatusCodes"] = "500-599,429",
                ["FailureRatio"] = "0.25",
                ["SlowCallDuration"] = "00:00:02",
                ["PermittedProbes"] = "3",
                ["HonorRetryAfter"] = "false",
            })
            .Build();
        using var mock = new MockHttpMessageHandler();
        mock.When("*").Respond(HttpStatusCode.TooManyRequests);
        var services = new ServiceCollection();
        services.AddHttpClient("github").ConfigurePrimaryHttpMessageHandler(() => mock).AddCircuitBreaker(configuration);
        await using ServiceProvider provider = services.BuildServiceProvider();
        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("github");

        using HttpResponseMessage response = await client.GetAsync(BreakerServices.Url);

        CircuitBreakerOptions options = provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>().Get("github");
        Assert.That(options.FailureRatio, Is.EqualTo(0.25));
        Assert.That(options.SlowCallDuration, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(options.PermittedProbes, Is.EqualTo(3));
        Assert.That(options.HonorRetryAfter, Is.False);
        Assert.That(provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit("github", out CircuitSnapshot? snapshot), Is.True);
        Assert.That(snapshot!.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task Classifier_OverridesStatusRules()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 2;
            o.ClassifyOutcome = context => context.Response?.StatusCode == HttpStatusCode.OK && context.Request.RequestUri!.Query.Contains("degraded", StringComparison.Ordinal)
                ? CircuitBreakerOutcome.Failure
                : null;
        });
        using HttpClient client = services.CreateClient();

        using HttpResponseMessage first = await client.GetAsync(BreakerServices.Url + "?degraded");
        using HttpResponseMessage second = await client.GetAsync(BreakerServices.Url + "?degraded");

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task Classifier_NullFallsBackToDefaults()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.ClassifyOutcome = _ => null;
        });

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public void Classifier_SeesExceptions()
    {
        Exception? seen = null;
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.ClassifyOutcome = context =>
            {
                seen = context.Exception;
                return context.Exception is InvalidOperationException ? CircuitBreakerOutcome.Ignored : null;
            };
        });
        var thrown = new InvalidOperationException("misconfigured request");
        services.Upstream.Throw(thrown);
        using HttpClient client = services.CreateClient();

        Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync(BreakerServices.Url));

        Assert.That(seen, Is.SameAs(thrown));
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task Classifier_Throws_DefaultsDecideAndErrorLogged()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 1;
            o.ClassifyOutcome = _ => throw new FormatException("classifier bug");
        });

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        LogEntry logged = services.Logs.Entries.Single(e => e.EventId == 11);
        Assert.That(logged.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(logged.Message, Does.Contain("'github'"));
    }

    /// <summary>
    /// A terminal handler whose synchronous <c>Send</c> blocks until its token is cancelled, after letting the test
    /// advance the fake clock from inside the call.
    /// </summary>
    private sealed class BlockingSendHandler : HttpMessageHandler
    {
        public Action? OnBlocked { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new NotSupportedException("This handler serves the synchronous path only.");

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            OnBlocked?.Invoke();
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(10));
            cancellationToken.ThrowIfCancellationRequested();
            throw new InvalidOperationException("The token was never cancelled.");
        }
    }
}
