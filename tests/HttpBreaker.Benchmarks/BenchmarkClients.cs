using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// One service provider with a named client per scenario, each behind the real <see cref="IHttpClientFactory"/>
/// pipeline with an in-memory primary handler. Breakers that a scenario needs open are opened here.
/// </summary>
internal sealed class BenchmarkClients : IDisposable
{
    public const string Bare = "bare";
    public const string PassThrough = "pass-through";
    public const string Breaker = "breaker";
    public const string BreakerRatio = "breaker-ratio";
    public const string BreakerOpen = "breaker-open";
    public const string BreakerHalfOpen = "breaker-half-open";
    public const string BreakerPartitioned = "breaker-partitioned";
    public const string PollyV8 = "polly-v8";
    public const string PollyV8Open = "polly-v8-open";
    public const string PollyV7 = "polly-v7";
    public const string PollyV7Open = "polly-v7-open";
    public const string Fleet = "fleet";
    public const string FleetOpen = "fleet-open";

    /// <summary>The longest break that every library accepts, so an opened circuit stays open for the whole run.</summary>
    private static readonly TimeSpan LongBreak = TimeSpan.FromDays(1);

    private readonly ServiceProvider _provider;
    private readonly bool _hasFleet;
    private readonly IHttpClientFactory _factory;

    /// <param name="redisConfiguration">The Redis that the fleet clients share, or <see langword="null"/> to leave them out.</param>
    public BenchmarkClients(string? redisConfiguration = null)
    {
        var services = new ServiceCollection();

        // Hosts register IMeterFactory, so every scenario has one, as it would in an application.
        services.AddMetrics();

        Add(services, Bare, HttpStatusCode.OK);
        Add(services, PassThrough, HttpStatusCode.OK).AddHttpMessageHandler(() => new PassThroughHandler());
        Add(services, Breaker, HttpStatusCode.OK).AddCircuitBreaker();
        Add(services, BreakerRatio, HttpStatusCode.OK).AddCircuitBreaker(o =>
        {
            o.FailureThreshold = 0;
            o.FailureRatio = 0.5;
        });
        Add(services, BreakerOpen, HttpStatusCode.InternalServerError).AddCircuitBreaker(o =>
        {
            o.FailureThreshold = 1;
            o.BreakDuration = LongBreak;
        });
        // HttpClient.Timeout would cancel the held probe after 100 seconds and free its slot for the next request.
        services.AddHttpClient(BreakerHalfOpen, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new HangingProbeHandler())
            .AddCircuitBreaker(o =>
            {
                o.FailureThreshold = 1;
                o.BreakDuration = TimeSpan.FromMilliseconds(1);
                o.ProbeTimeout = LongBreak;
            });
        Add(services, BreakerPartitioned, HttpStatusCode.OK).AddCircuitBreaker(o => o.PartitionBy = PartitionBy.Authority);

        Add(services, PollyV8, HttpStatusCode.OK)
            .AddResilienceHandler("breaker", pipeline => pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions()));
        Add(services, PollyV8Open, HttpStatusCode.InternalServerError)
            .AddResilienceHandler("breaker", pipeline => pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                MinimumThroughput = 2,
                BreakDuration = LongBreak,
            }));
        Add(services, PollyV7, HttpStatusCode.OK)
            .AddTransientHttpErrorPolicy(policy => policy.CircuitBreakerAsync(5, TimeSpan.FromSeconds(30)));
        Add(services, PollyV7Open, HttpStatusCode.InternalServerError)
            .AddTransientHttpErrorPolicy(policy => policy.CircuitBreakerAsync(1, LongBreak));

        if (redisConfiguration is not null)
        {
            // Fleet mode as an instance of a fleet runs it: the same breakers, shared through a real Redis.
            Add(services, Fleet, HttpStatusCode.OK).AddCircuitBreaker().ShareThroughRedis(o => o.Configuration = redisConfiguration);
            Add(services, FleetOpen, HttpStatusCode.InternalServerError)
                .AddCircuitBreaker(o =>
                {
                    o.FailureThreshold = 1;
                    o.BreakDuration = LongBreak;
                })
                .ShareThroughRedis(o => o.Configuration = redisConfiguration);
        }

        _hasFleet = redisConfiguration is not null;
        _provider = services.BuildServiceProvider();
        _factory = _provider.GetRequiredService<IHttpClientFactory>();
    }

    public HttpClient Create(string name) => _factory.CreateClient(name);

    /// <summary>
    /// Brings each scenario's circuit into the state it measures, and checks that state, so that a scenario that
    /// measured the wrong path fails instead of printing a figure.
    /// </summary>
    /// <param name="hosts">The request URIs; each gets its partition circuit in the partitioned scenario.</param>
    public async Task PrepareAsync(IReadOnlyList<Uri> hosts)
    {
        Uri uri = hosts[0];
        foreach (string name in new[] { Bare, PassThrough, Breaker, BreakerRatio, PollyV8, PollyV7 })
        {
            using HttpResponseMessage response = await Create(name).GetAsync(uri);
            Expect(response.StatusCode == HttpStatusCode.OK, name, $"returned {response.StatusCode} instead of 200");
        }

        await OpenBreakerAsync(uri);
        await HoldBreakerHalfOpenAsync(uri);

        HttpClient partitioned = Create(BreakerPartitioned);
        foreach (Uri host in hosts)
        {
            using HttpResponseMessage response = await partitioned.GetAsync(host);
        }

        int partitions = Registry.GetCircuits().Count(c => c.ClientName == BreakerPartitioned && c.PartitionKey is not null);
        Expect(partitions == hosts.Count, BreakerPartitioned, $"has {partitions} partition circuits instead of {hosts.Count}");

        await OpenPollyAsync(PollyV8Open, uri);
        await OpenPollyAsync(PollyV7Open, uri);

        if (_hasFleet)
        {
            using (HttpResponseMessage response = await Create(Fleet).GetAsync(uri))
            {
                Expect(response.StatusCode == HttpStatusCode.OK, Fleet, $"returned {response.StatusCode} instead of 200");
            }

            HttpClient fleetOpen = Create(FleetOpen);
            (await fleetOpen.GetAsync(uri)).Dispose();
            using HttpResponseMessage rejection = await fleetOpen.GetAsync(uri);
            Expect(StateOf(FleetOpen) == CircuitState.Open, FleetOpen, $"is {StateOf(FleetOpen)} instead of open");
            Expect(CircuitBreakerHandler.IsRejection(rejection), FleetOpen, "sent a request instead of rejecting it");
        }
    }

    public void Dispose() => _provider.Dispose();

    private static IHttpClientBuilder Add(IServiceCollection services, string name, HttpStatusCode status) =>
        services.AddHttpClient(name).ConfigurePrimaryHttpMessageHandler(() => new InMemoryHandler(status));

    private static void Expect(bool condition, string client, string problem)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"The benchmark client '{client}' {problem}, so its scenario would measure the wrong path.");
        }
    }

    private ICircuitBreakerRegistry Registry => _provider.GetRequiredService<ICircuitBreakerRegistry>();

    private CircuitState StateOf(string client) =>
        Registry.TryGetCircuit(client, out CircuitSnapshot? snapshot) ? snapshot.State : CircuitState.Closed;

    private async Task OpenBreakerAsync(Uri uri)
    {
        HttpClient client = Create(BreakerOpen);
        using HttpResponseMessage failure = await client.GetAsync(uri);
        using HttpResponseMessage rejection = await client.GetAsync(uri);

        Expect(StateOf(BreakerOpen) == CircuitState.Open, BreakerOpen, $"is {StateOf(BreakerOpen)} instead of open");
        Expect(CircuitBreakerHandler.IsRejection(rejection), BreakerOpen, "sent a request instead of rejecting it");
    }

    private async Task HoldBreakerHalfOpenAsync(Uri uri)
    {
        HttpClient client = Create(BreakerHalfOpen);
        using HttpResponseMessage failure = await client.GetAsync(uri);

        // The break lasts one millisecond. The request after it is the probe, which the handler never completes.
        while (Registry.TryGetCircuit(BreakerHalfOpen, out CircuitSnapshot? snapshot) && snapshot.NextProbeAt > DateTimeOffset.UtcNow)
        {
            await Task.Delay(1);
        }

        _ = client.GetAsync(uri);
        using HttpResponseMessage rejection = await client.GetAsync(uri);

        Expect(StateOf(BreakerHalfOpen) == CircuitState.HalfOpen, BreakerHalfOpen, $"is {StateOf(BreakerHalfOpen)} instead of half-open");
        Expect(CircuitBreakerHandler.IsRejection(rejection), BreakerHalfOpen, "sent a request instead of rejecting it");
    }

    /// <summary>
    /// Sends failures until Polly's breaker rejects. Polly v7's <c>BrokenCircuitException&lt;T&gt;</c> derives from
    /// Polly.Core's <see cref="BrokenCircuitException"/>, so one catch serves both versions.
    /// </summary>
    private async Task OpenPollyAsync(string name, Uri uri)
    {
        HttpClient client = Create(name);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                using HttpResponseMessage response = await client.GetAsync(uri);
            }
            catch (BrokenCircuitException)
            {
                return;
            }
        }

        Expect(false, name, "did not open after 10 failures");
    }
}
