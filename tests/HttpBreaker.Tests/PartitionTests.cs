using System.Net;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

public class PartitionTests
{
    private const string HostA = "http://a.test";
    private const string HostB = "http://b.test";
    private static readonly HttpRequestOptionsKey<string> TenantKey = new("tenant");

    [Test]
    public async Task Authority_HostAFailing_LeavesHostBClosed()
    {
        using var services = PartitionedServices(o => o.PartitionBy = PartitionBy.Authority);
        using HttpClient client = services.CreateClient();

        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage failed = await client.GetAsync(HostA + "/fail");
        }

        using HttpResponseMessage rejected = await client.GetAsync(HostA + "/ok");
        using HttpResponseMessage passed = await client.GetAsync(HostB + "/ok");

        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Snapshot(services, "http://a.test:80").State, Is.EqualTo(CircuitState.Open));
        Assert.That(Snapshot(services, "http://b.test:80").State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task Authority_LogsCarryClientAndCircuitName()
    {
        using var services = PartitionedServices(o => o.PartitionBy = PartitionBy.Authority);
        using HttpClient client = services.CreateClient();

        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage failed = await client.GetAsync(HostA + "/fail");
        }

        LogEntry opened = services.Logs.Entries.Single(e => e.EventId == 1);
        Assert.That(opened.Message, Does.Contain("Circuit 'github/http://a.test:80' of client 'github'"));
    }

    [TestCase("http://[::1]:8080/x", "http://[::1]:8080")]
    [TestCase("HTTP://A.Test/x", "http://a.test:80")]
    [TestCase("https://a.test/x", "https://a.test:443")]
    public async Task Authority_KeyKeepsHostForm(string url, string expectedKey)
    {
        using var services = PartitionedServices(o => o.PartitionBy = PartitionBy.Authority);
        using HttpClient client = services.CreateClient();

        using HttpResponseMessage response = await client.GetAsync(url);

        Assert.That(services.Registry.TryGetCircuit("github", expectedKey, out _), Is.True);
    }

    [Test]
    public async Task Authority_CircuitNamedClientSlashPartition()
    {
        using var services = PartitionedServices(o => o.PartitionBy = PartitionBy.Authority);
        using HttpClient client = services.CreateClient();

        using HttpResponseMessage response = await client.GetAsync("https://c.test:8443/ok");

        CircuitSnapshot snapshot = Snapshot(services, "https://c.test:8443");
        Assert.That(snapshot.Name, Is.EqualTo("github/https://c.test:8443"));
        Assert.That(snapshot.ClientName, Is.EqualTo("github"));
        Assert.That(snapshot.PartitionKey, Is.EqualTo("https://c.test:8443"));
    }

    [Test]
    public async Task CustomKey_PerTenant_AndNullKeyUsesClientCircuit()
    {
        using var services = PartitionedServices(o => o.PartitionKey = request =>
            request.Options.TryGetValue(TenantKey, out string? tenant) ? tenant : null);
        using HttpClient client = services.CreateClient();

        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage failed = await client.SendAsync(TenantRequest(HostA + "/fail", "acme"));
        }

        using HttpResponseMessage otherTenant = await client.SendAsync(TenantRequest(HostA + "/ok", "globex"));
        using HttpResponseMessage noTenant = await client.GetAsync(HostA + "/ok");

        Assert.That(Snapshot(services, "acme").State, Is.EqualTo(CircuitState.Open));
        Assert.That(otherTenant.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(noTenant.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.Registry.TryGetCircuit("github", null, out CircuitSnapshot? own), Is.True);
        Assert.That(own!.PartitionKey, Is.Null);
        Assert.That(services.Registry.GetCircuits().Select(c => c.Name), Is.EqualTo(new[] { "github", "github/acme", "github/globex" }));
    }

    [Test]
    public void PartitionBy_BindsFromConfiguration()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["PartitionBy"] = "Authority",
                ["MaxPartitions"] = "16",
                ["PartitionIdleTimeout"] = "00:01:00",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(configuration);
        using ServiceProvider provider = services.BuildServiceProvider();

        CircuitBreakerOptions options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<CircuitBreakerOptions>>().Get("github");

        Assert.That(options.PartitionBy, Is.EqualTo(PartitionBy.Authority));
        Assert.That(options.MaxPartitions, Is.EqualTo(16));
        Assert.That(options.PartitionIdleTimeout, Is.EqualTo(TimeSpan.FromMinutes(1)));
    }

    [Test]
    public async Task MaxPartitions_EvictsLeastRecentlyUsedClosedFirst()
    {
        using var services = PartitionedServices(o =>
        {
            o.PartitionKey = request => request.RequestUri!.AbsolutePath.Split('/')[1];
            o.MaxPartitions = 8;
        });
        using HttpClient client = services.CreateClient();
        using (HttpResponseMessage failed = await client.GetAsync(HostA + "/open/fail"))
        {
        }

        using (HttpResponseMessage failed = await client.GetAsync(HostA + "/open/fail"))
        {
        }

        for (int i = 0; i < 20; i++)
        {
            services.Time.Advance(TimeSpan.FromMilliseconds(1));
            using HttpResponseMessage response = await client.GetAsync($"{HostA}/key{i}/ok");
        }

        IReadOnlyList<CircuitSnapshot> partitions = services.Registry.GetCircuits().Where(c => c.PartitionKey is not null).ToList();
        Assert.That(partitions, Has.Count.LessThanOrEqualTo(8));
        Assert.That(partitions.Select(c => c.PartitionKey), Does.Contain("open"), "the open circuit outlives newer closed ones");
        Assert.That(partitions.Select(c => c.PartitionKey), Does.Contain("key19"), "the newest key is kept");
        Assert.That(partitions.Select(c => c.PartitionKey), Does.Not.Contain("key0"), "the oldest closed key is gone");
    }

    [Test]
    public async Task MaxPartitions_HundredThousandKeys_StaysBoundedAndMemoryReturns()
    {
        var services = new ServiceCollection();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        services.AddSingleton<TimeProvider>(time);
        services.AddHttpClient("github")
            .ConfigurePrimaryHttpMessageHandler(() => new StaticHandler())
            .AddCircuitBreaker(o =>
            {
                o.PartitionKey = request => request.Headers.TryGetValues("X-Tenant", out IEnumerable<string>? values) ? values.First() : null;
                o.PartitionIdleTimeout = TimeSpan.FromMinutes(1);
            });
        await using ServiceProvider provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using var invoker = new HttpMessageInvoker(RegistrationTests.BuildHandlerChain(provider, "github"));
        // A first, smaller round brings every path and the dictionary's bucket array to their steady size, so the
        // baseline is taken in the same state that the big round ends in.
        for (int i = 0; i < 20_000; i++)
        {
            await SendTenantAsync(invoker, $"warm-up-{i}");
        }

        time.Advance(TimeSpan.FromMinutes(2));
        await SendTenantAsync(invoker, "before");
        long before = MeasureMemory();
        int maxSeen = 0;

        WeakReference firstCircuit = await SendAndTrackAsync(provider, invoker, "tenant-0");
        for (int i = 1; i < 100_000; i++)
        {
            await SendTenantAsync(invoker, $"tenant-{i}");
            if (i % 1000 == 0)
            {
                maxSeen = Math.Max(maxSeen, registry.GetCircuits().Count - 1);
            }
        }

        maxSeen = Math.Max(maxSeen, registry.GetCircuits().Count - 1);
        time.Advance(TimeSpan.FromMinutes(2));
        await SendTenantAsync(invoker, "after");
        long after = MeasureMemory();

        Assert.That(maxSeen, Is.LessThanOrEqualTo(1024));
        Assert.That(registry.GetCircuits().Count, Is.LessThanOrEqualTo(3), "idle partitions were swept");
        Assert.That(firstCircuit.IsAlive, Is.False, "an evicted circuit is collected");

        // One circuit kept per key would add tens of megabytes; the allowance covers what the test host itself
        // allocates on other threads meanwhile.
        Assert.That(after - before, Is.LessThan(1024 * 1024), $"memory grew from {before} to {after} bytes");
    }

    [Test]
    [Repeat(5)]
    public async Task Eviction_RacingRequests_NoSecondCircuitNoLostOutcome()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(
            o =>
            {
                o.PartitionKey = request => request.RequestUri!.AbsolutePath.Split('/')[1];
                o.MaxPartitions = 2;
                o.FailureThreshold = 1;
            },
            gate);
        using HttpClient client = services.CreateClient();

        Task<HttpResponseMessage> held = client.GetAsync(HostA + "/held/x");
        Task<HttpResponseMessage>[] churn = await Racing.StartTogetherAsync(32, () => client.GetAsync($"{HostA}/churn{Guid.NewGuid():N}/x"));

        Assert.That(services.Registry.TryGetCircuit("github", "held", out _), Is.True, "a circuit with a request in flight is never evicted");

        Task<HttpResponseMessage> second = client.GetAsync(HostA + "/held/x");
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        (await held).Dispose();

        Assert.That(services.Registry.TryGetCircuit("github", "held", out CircuitSnapshot? snapshot), Is.True);
        Assert.That(snapshot!.State, Is.EqualTo(CircuitState.Open), "the held request's failure reached the one circuit for its key");
        Assert.That(gate.Received, Is.EqualTo(34), "the second request for the key shared the circuit that was still closed");

        for (int i = 0; i < 33; i++)
        {
            gate.Next().Respond(HttpStatusCode.OK);
        }

        await Task.WhenAll(churn);
        (await second).Dispose();
    }

    [Test]
    public async Task Isolate_Partition_RejectsOnlyIt()
    {
        using var services = PartitionedServices(o => o.PartitionBy = PartitionBy.Authority);
        using HttpClient client = services.CreateClient();

        services.Registry.Isolate("github", "http://a.test:80");
        using HttpResponseMessage isolated = await client.GetAsync(HostA + "/ok");
        using HttpResponseMessage other = await client.GetAsync(HostB + "/ok");

        Assert.That(CircuitBreakerHandler.IsRejection(isolated), Is.True);
        Assert.That(isolated.Headers.RetryAfter, Is.Null);
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        services.Registry.Reset("github", "http://a.test:80");
        using HttpResponseMessage afterReset = await client.GetAsync(HostA + "/ok");

        Assert.That(afterReset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Isolate_Client_CoversExistingAndLaterPartitions()
    {
        using var services = PartitionedServices(o => o.PartitionBy = PartitionBy.Authority);
        using HttpClient client = services.CreateClient();
        using (HttpResponseMessage warm = await client.GetAsync(HostA + "/ok"))
        {
        }

        services.Registry.Isolate("github");
        using HttpResponseMessage existing = await client.GetAsync(HostA + "/ok");
        using HttpResponseMessage later = await client.GetAsync(HostB + "/ok");

        Assert.That(CircuitBreakerHandler.IsRejection(existing), Is.True);
        Assert.That(CircuitBreakerHandler.IsRejection(later), Is.True);
        Assert.That(services.Registry.GetCircuits().Select(c => c.State), Is.All.EqualTo(CircuitState.Isolated));

        services.Registry.Reset("github");
        using HttpResponseMessage afterReset = await client.GetAsync(HostB + "/ok");

        Assert.That(afterReset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.Registry.GetCircuits().Select(c => c.State), Is.All.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task CreationFailure_GivesBackItsPlace()
    {
        var logs = new ThrowingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs));
        services.AddHttpClient("github")
            .ConfigurePrimaryHttpMessageHandler(() => new StaticHandler())
            .AddCircuitBreaker(o =>
            {
                o.PartitionBy = PartitionBy.Authority;
                o.MaxPartitions = 1;
            });
        await using ServiceProvider provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("github");

        // Isolating the new partition logs, and the logger throws, so creating it fails after its place was taken.
        logs.Armed = true;
        Assert.Catch(() => registry.Isolate("github"));
        Assert.CatchAsync(() => client.GetAsync("http://one.test/"));
        logs.Armed = false;
        registry.Reset("github");
        using HttpResponseMessage response = await client.GetAsync("http://two.test/");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(registry.TryGetCircuit("github", "http://two.test:80", out _), Is.True, "the failed creation left its place free");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ClientIsolation_ChangedDuringCreation_AppliedAfterAdd(bool isolateDuringCreation)
    {
        // The race window between creating a partition circuit and adding it to the table is too narrow to hit
        // reliably with threads, so this drives the two steps by hand with the client-wide change in between.
        using var services = PartitionedServices(o => o.PartitionBy = PartitionBy.Authority);
        var registry = services.Provider.GetRequiredService<HttpBreaker.Internal.CircuitBreakerRegistry>();
        HttpBreaker.Internal.ClientCircuits client = registry.GetOrCreateClient("github");
        if (!isolateDuringCreation)
        {
            client.IsolateAll();
        }

        HttpBreaker.Internal.Circuit circuit = client.CreatePartitionCircuit("late", out bool createdIsolated);
        if (isolateDuringCreation)
        {
            client.IsolateAll();
        }
        else
        {
            client.ResetAll();
        }

        client.MatchClient(circuit, createdIsolated);

        CircuitState expected = isolateDuringCreation ? CircuitState.Isolated : CircuitState.Closed;
        Assert.That(circuit.GetSnapshot().State, Is.EqualTo(expected));
    }

    [Test]
    public void IsolatePartition_UnpartitionedClient_ThrowsWithFix()
    {
        using var services = BreakerServices.Create();

        ArgumentException? exception = Assert.Throws<ArgumentException>(() => services.Registry.Isolate("github", "x"));

        Assert.That(exception!.Message, Does.Contain("not partitioned"));
        Assert.That(exception.Message, Does.Contain("PartitionBy or PartitionKey"));
    }

    [Test]
    public void IsolatePartition_AllIsolatedAtBound_Throws()
    {
        using var services = PartitionedServices(o =>
        {
            o.PartitionBy = PartitionBy.Authority;
            o.MaxPartitions = 2;
        });
        services.Registry.Isolate("github", "one");
        services.Registry.Isolate("github", "two");

        InvalidOperationException? exception = Assert.Throws<InvalidOperationException>(() => services.Registry.Isolate("github", "three"));

        Assert.That(exception!.Message, Does.Contain("MaxPartitions"));
    }

    [Test]
    public async Task FullOfIsolated_NewKeyUsesClientCircuit()
    {
        using var services = PartitionedServices(o =>
        {
            o.PartitionBy = PartitionBy.Authority;
            o.MaxPartitions = 1;
        });
        services.Registry.Isolate("github", "http://a.test:80");
        using HttpClient client = services.CreateClient();

        using HttpResponseMessage response = await client.GetAsync(HostB + "/ok");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.Registry.TryGetCircuit("github", "http://b.test:80", out _), Is.False);
    }

    private static BreakerServices PartitionedServices(Action<CircuitBreakerOptions> configure)
    {
        var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 2;
            configure(o);
        });
        services.Upstream.Respond(request => new HttpResponseMessage(
            request.RequestUri!.AbsolutePath.EndsWith("/fail", StringComparison.Ordinal) ? HttpStatusCode.InternalServerError : HttpStatusCode.OK));
        return services;
    }

    private static CircuitSnapshot Snapshot(BreakerServices services, string partitionKey) =>
        services.Registry.TryGetCircuit(BreakerServices.ClientName, partitionKey, out CircuitSnapshot? snapshot)
            ? snapshot
            : throw new AssertionException($"No partition '{partitionKey}'.");

    private static HttpRequestMessage TenantRequest(string url, string tenant)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Options.Set(TenantKey, tenant);
        return request;
    }

    private static async Task SendTenantAsync(HttpMessageInvoker invoker, string tenant)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream.test/");
        request.Headers.Add("X-Tenant", tenant);
        using HttpResponseMessage response = await invoker.SendAsync(request, CancellationToken.None);
    }

    /// <summary>
    /// Returns the bytes of live objects after compacting collections, so free space left between survivors by a
    /// non-compacting collection is not counted as growth.
    /// </summary>
    /// <summary>
    /// Sends one request and returns a weak reference to the circuit it created, taken in a separate method so
    /// that no local keeps the circuit alive.
    /// </summary>
    private static async Task<WeakReference> SendAndTrackAsync(IServiceProvider provider, HttpMessageInvoker invoker, string tenant)
    {
        await SendTenantAsync(invoker, tenant);
        var registry = provider.GetRequiredService<HttpBreaker.Internal.CircuitBreakerRegistry>();
        registry.GetOrCreateClient("github").Partitions!.TryGet(tenant, out HttpBreaker.Internal.PartitionEntry? entry);
        return new WeakReference(entry!.Circuit);
    }

    private static long MeasureMemory()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>
    /// A logger provider whose breaker logger throws on every entry while <see cref="Armed"/> is set. Other
    /// categories, such as the factory's request logging, stay quiet so the request reaches the breaker.
    /// </summary>
    private sealed class ThrowingLoggerProvider : ILoggerProvider
    {
        public bool Armed { get; set; }

        public ILogger CreateLogger(string categoryName) =>
            categoryName == "HttpBreaker.CircuitBreaker" ? new ThrowingLogger(this) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger(ThrowingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => owner.Armed;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                throw new InvalidOperationException("The logger failed.");
        }
    }

    /// <summary>A terminal handler that returns 200 at once.</summary>
    private sealed class StaticHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
    }
}
