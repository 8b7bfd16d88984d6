using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using HttpBreaker.Internal;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

/// <summary>
/// Tests that attack configuration reload: reloads racing requests, probes, isolation and partition creation, and
/// reloads of every invalid kind.
/// </summary>
public class ReloadAdversarialTests
{
    private const string Client = "github";
    private const string Url = "http://upstream.test/";

    // ---------------------------------------------------------------- circuit races

    [Test]
    public async Task RecordFailure_RatioToggledByReload_NeverThrows()
    {
        // A failure reads the closed phase's window to decide whether the ratio rule is on, then counts into it. A
        // reload that turns the rule off in between must not make the request path throw.
        var time = new FakeTimeProvider();
        CircuitPolicy ratioOn = CircuitPolicy.Create(new CircuitBreakerOptions
        {
            FailureThreshold = int.MaxValue,
            FailureRatio = 0.5,
            MinimumThroughput = int.MaxValue,
        });
        CircuitPolicy ratioOff = CircuitPolicy.Create(new CircuitBreakerOptions { FailureThreshold = int.MaxValue });
        var circuit = new Circuit(Client, ratioOn, time, NullLogger.Instance);
        const int Failures = 3_000_000;
        int recorded = 0;

        Task recorder = Task.Factory.StartNew(
            () =>
            {
                for (int i = 0; i < Failures; i++)
                {
                    circuit.TryAdmit(out Admission admission);
                    circuit.Record(admission, CircuitBreakerOutcome.Failure);
                    Volatile.Write(ref recorded, i + 1);
                }
            },
            TaskCreationOptions.LongRunning);
        Task reloader = Task.Factory.StartNew(
            () =>
            {
                bool on = false;
                while (!recorder.IsCompleted)
                {
                    circuit.UpdatePolicy(on ? ratioOn : ratioOff);
                    on = !on;
                }
            },
            TaskCreationOptions.LongRunning);

        Assert.DoesNotThrowAsync(async () => await recorder);
        await reloader;
        Assert.That(Volatile.Read(ref recorded), Is.EqualTo(Failures));
        Assert.That(circuit.CurrentPhase.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public void Reset_RacingRatioTurnedOn_ClosedPhaseCountsTheRatio()
    {
        // Reset builds the closed phase from the policy it reads first. A reload that turns the ratio rule on
        // between that read and the swap finds a circuit that is not yet closed, so it has no window to replace.
        // The circuit then closes without a window and, with FailureThreshold 0, could never open again.
        var time = new FakeTimeProvider();
        CircuitPolicy thresholdOnly = CircuitPolicy.Create(new CircuitBreakerOptions { FailureThreshold = 5 });
        CircuitPolicy ratioOnly = CircuitPolicy.Create(new CircuitBreakerOptions { FailureThreshold = 0, FailureRatio = 0.5, MinimumThroughput = 2 });
        const int Rounds = 50_000;
        int windowless = 0;

        using var start = new Barrier(2);
        for (int round = 0; round < Rounds && windowless == 0; round++)
        {
            var circuit = new Circuit(Client, thresholdOnly, time, NullLogger.Instance);
            circuit.Isolate();
            int spin = round % 64;

            Task reset = Task.Run(() =>
            {
                start.SignalAndWait();
                circuit.Reset();
            });
            start.SignalAndWait();
            Thread.SpinWait(spin);
            circuit.UpdatePolicy(ratioOnly);
            reset.Wait();

            if (circuit.CurrentPhase is ClosedPhase { Window: null })
            {
                windowless++;
            }
        }

        Assert.That(windowless, Is.Zero, "a circuit closed under a ratio policy without a window to count the ratio in");
    }

    // ---------------------------------------------------------------- partitions

    [Test]
    public async Task Reload_IdleTimeoutLowered_SweepsOnNewSchedule()
    {
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:PartitionBy"] = "Authority",
            ["HttpBreaker:Clients:github:PartitionIdleTimeout"] = "1.00:00:00",
        });
        await app.SendAsync("http://idle.test/");

        app.Reload(("HttpBreaker:Clients:github:PartitionIdleTimeout", "00:00:10"));
        app.Time.Advance(TimeSpan.FromMinutes(1));
        await app.SendAsync("http://fresh.test/");

        Assert.That(app.Registry.TryGetCircuit(Client, "http://idle.test:80", out _), Is.False,
            "idle.test was idle six times the reloaded timeout when the next key arrived, yet it was not swept");
    }

    [Test]
    public async Task Reload_IdleTimeoutOffThenOn_KeepsThenSweeps()
    {
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:PartitionBy"] = "Authority",
            ["HttpBreaker:Clients:github:PartitionIdleTimeout"] = "00:00:10",
        });
        await app.SendAsync("http://old.test/");

        app.Reload(("HttpBreaker:Clients:github:PartitionIdleTimeout", ""));
        Assert.That(app.Logs.Entries.Where(e => e.EventId is 16 or 17).Select(e => e.Message), Is.Empty);
        Assert.That(app.Client.Policy.PartitionIdleTimeout, Is.Null, "an empty value turns the timeout off, the only way configuration can");
        app.Time.Advance(TimeSpan.FromMinutes(5));
        await app.SendAsync("http://other.test/");
        Assert.That(app.Registry.TryGetCircuit(Client, "http://old.test:80", out _), Is.True, "no sweep runs while the timeout is off");

        app.Reload(("HttpBreaker:Clients:github:PartitionIdleTimeout", "00:00:10"));
        app.Time.Advance(TimeSpan.FromSeconds(11));
        await app.SendAsync("http://third.test/");

        Assert.That(app.Registry.TryGetCircuit(Client, "http://old.test:80", out _), Is.False);
        Assert.That(app.Registry.TryGetCircuit(Client, "http://other.test:80", out _), Is.False);
        Assert.That(app.Registry.TryGetCircuit(Client, "http://third.test:80", out _), Is.True);
    }

    [Test]
    public async Task Reload_MaxPartitionsLowered_NextNewKeyRestoresBound()
    {
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:PartitionBy"] = "Authority",
            ["HttpBreaker:Clients:github:MaxPartitions"] = "64",
        });
        for (int i = 0; i < 40; i++)
        {
            app.Time.Advance(TimeSpan.FromMilliseconds(1));
            await app.SendAsync($"http://k{i}.test/");
        }

        app.Reload(("HttpBreaker:Clients:github:MaxPartitions", "8"));
        await app.SendAsync("http://k39.test/");
        Assert.That(app.Client.Partitions!.Count, Is.EqualTo(40), "a known key evicts nothing");
        await app.SendAsync("http://new.test/");

        Assert.That(app.Client.Partitions!.Count, Is.LessThanOrEqualTo(8));
        Assert.That(app.Registry.GetCircuits().Count(c => c.PartitionKey is not null), Is.EqualTo(app.Client.Partitions.Count));
        Assert.That(app.Registry.TryGetCircuit(Client, "http://new.test:80", out _), Is.True);
        Assert.That(app.Registry.TryGetCircuit(Client, "http://k39.test:80", out _), Is.True, "the most recently used key stays");
    }

    [Test]
    public async Task Reload_RacingNewKeysAndIsolation_EveryCircuitEndsOnFinalPolicy()
    {
        // Senders bring fresh keys while the threshold is reloaded over and over and the operator isolates and resets
        // the client. Circuits created in the middle of a reload must end on the last policy like the others.
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:PartitionBy"] = "Authority",
            ["HttpBreaker:Clients:github:FailureThreshold"] = "1000",
            ["HttpBreaker:Clients:github:MaxPartitions"] = "100000",
            ["HttpBreaker:Clients:github:PartitionIdleTimeout"] = "",
        });
        using HttpClient client = app.CreateHttpClient();
        int next = 0;

        Task<int>[] senders = await Racing.StartTogetherAsync(4, async () =>
        {
            for (int i = 0; i < 300; i++)
            {
                using HttpResponseMessage response = await client.GetAsync($"http://k{Interlocked.Increment(ref next)}.test/");
            }

            return 0;
        });
        Task reloader = Task.Run(() =>
        {
            for (int threshold = 500; threshold < 600; threshold++)
            {
                app.Reload(("HttpBreaker:Clients:github:FailureThreshold", threshold.ToString(CultureInfo.InvariantCulture)));
                app.Registry.Isolate(Client);
                app.Registry.Reset(Client);
            }
        });
        await Task.WhenAll([.. senders, reloader]);

        Circuit[] circuits = [.. app.Client.AllCircuits];
        Assert.That(circuits, Has.Length.EqualTo(1201), "the client's own circuit and one per key");
        Assert.That(circuits.Select(c => c.Policy.FailureThreshold).Distinct(), Is.EqualTo(new[] { 599 }));
        Assert.That(circuits.Where(c => !ReferenceEquals(c.Policy, app.Client.Policy)).Select(c => c.Name), Is.Empty);
        Assert.That(circuits.Select(c => c.CurrentPhase.State).Distinct(), Is.EqualTo(new[] { CircuitState.Closed }), "Reset(client) returned last");
    }

    [Test]
    public async Task Reload_RacingFirstClientCreation_ClientEndsOnNewOptions()
    {
        // A client created while a reload runs must not read the new reload version together with options cached
        // before the reload. Otherwise, when it joins the registry after the reload has listed the clients, neither
        // side applies the new options to it. The cache pauses both threads at those points.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpBreaker:Clients:github:FailureThreshold"] = "5",
        }).Build();
        var cache = new PausingOptionsCache();
        var services = new ServiceCollection();
        services.AddSingleton<IOptionsMonitorCache<CircuitBreakerOptions>>(cache);
        services.AddHttpClient(Client).AddCircuitBreaker();
        services.ConfigureCircuitBreakers(configuration.GetSection("HttpBreaker"));
        using ServiceProvider provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<CircuitBreakerRegistry>();
        provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>().Get(Client);
        configuration["HttpBreaker:Clients:github:FailureThreshold"] = "2";
        cache.Armed = true;

        Task reload = Task.Factory.StartNew(configuration.Reload, TaskCreationOptions.LongRunning);
        Task<ClientCircuits> create = Task.Factory.StartNew(
            () =>
            {
                cache.Clearing.Wait(TimeSpan.FromSeconds(10));
                return registry.GetOrCreateClient(Client);
            },
            TaskCreationOptions.LongRunning);
        await reload.WaitAsync(TimeSpan.FromSeconds(10));
        cache.ReloadDone.Set();
        ClientCircuits client = await create.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(cache.StaleRead.IsSet, Is.True, "the client read the cache while the reload was clearing it");
        Assert.That(client.Policy.FailureThreshold, Is.EqualTo(2), "the client kept options from before the reload");
    }

    [Test]
    public void Reload_PartitionKeyMethodInCode_NoPartitioningWarning()
    {
        // A partition key given as an instance method is a new delegate object each time the options are built,
        // though it is the same method on the same object. A reload of an unrelated setting must not warn that the
        // partitioning changed.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpBreaker:Clients:github:FailureThreshold"] = "5",
        }).Build();
        var logs = new RecordingLoggerProvider();
        var tenants = new TenantKey("X-Tenant");
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs));
        services.AddHttpClient(Client).AddCircuitBreaker(o => o.PartitionKey = tenants.Read);
        services.ConfigureCircuitBreakers(configuration.GetSection("HttpBreaker"));
        using ServiceProvider provider = services.BuildServiceProvider();
        ClientCircuits client = provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient(Client);

        configuration["HttpBreaker:Clients:github:FailureThreshold"] = "3";
        configuration.Reload();

        Assert.That(client.Policy.FailureThreshold, Is.EqualTo(3));
        Assert.That(logs.Entries.Where(e => e.EventId == 18).Select(e => e.Message), Is.Empty);
    }

    // ---------------------------------------------------------------- probes

    [Test]
    public async Task Reload_ProbeCountsRaisedWhileHalfOpen_CircuitStillCloses()
    {
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:FailureThreshold"] = "1",
            ["HttpBreaker:Clients:github:BreakDuration"] = "00:00:10",
        });
        await app.SendAsync(Url, HttpStatusCode.InternalServerError);
        app.Time.Advance(TimeSpan.FromSeconds(10));
        using HttpClient client = app.CreateHttpClient();

        // The one probe slot is taken; then the reload requires three probes and three successes.
        app.Status = HttpStatusCode.OK;
        app.Gate = new TaskCompletionSource();
        Task<HttpResponseMessage> probe = client.GetAsync(Url);
        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.HalfOpen));
        app.Reload(("HttpBreaker:Clients:github:PermittedProbes", "3"), ("HttpBreaker:Clients:github:ProbeSuccessThreshold", "3"));
        app.Gate.SetResult();
        (await probe).Dispose();

        int sent = 1;
        while (app.Snapshot.State == CircuitState.HalfOpen && sent < 10)
        {
            await app.SendAsync(Url);
            sent++;
        }

        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Closed), "the circuit stayed half-open");
        Assert.That(sent, Is.EqualTo(3), "three successes close it, one at a time through the phase's single slot");
    }

    [Test]
    public async Task Reload_ProbeTimeoutLoweredWhileProbing_ExpiresStuckProbe()
    {
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:FailureThreshold"] = "1",
            ["HttpBreaker:Clients:github:BreakDuration"] = "00:00:10",
            ["HttpBreaker:Clients:github:ProbeTimeout"] = "01:00:00",
        });
        await app.SendAsync(Url, HttpStatusCode.InternalServerError);
        app.Time.Advance(TimeSpan.FromSeconds(10));
        using HttpClient client = app.CreateHttpClient();
        app.Gate = new TaskCompletionSource();
        Task<HttpResponseMessage> stuck = client.GetAsync(Url);

        app.Reload(("HttpBreaker:Clients:github:ProbeTimeout", "00:00:05"));
        app.Time.Advance(TimeSpan.FromSeconds(6));
        using HttpResponseMessage next = await client.GetAsync(Url);

        Assert.That(CircuitBreakerHandler.IsRejection(next), Is.True);
        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Open), "the probe ran past the reloaded timeout, so it failed");
        app.Gate.SetResult();
        (await stuck).Dispose();
        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Open), "the late result of the expired probe changes nothing");
    }

    // ---------------------------------------------------------------- invalid reloads

    [Test]
    public void Reload_InvalidOfEveryKind_NeverThrowsAndKeepsOptions()
    {
        (string Key, string Value)[][] invalidEdits =
        [
            [("HttpBreaker:Clients:github:FailureThreshold", "0")],
            [("HttpBreaker:Clients:github:FailureRatio", "1.5")],
            [("HttpBreaker:Clients:github:FailureRatio", "NaN")],
            [("HttpBreaker:Clients:github:BreakDuration", "2.00:00:00")],
            [("HttpBreaker:Clients:github:MaxBreakDuration", "00:00:01")],
            [("HttpBreaker:Clients:github:PermittedProbes", "1001")],
            [("HttpBreaker:Clients:github:ProbeSuccessThreshold", "0")],
            [("HttpBreaker:Clients:github:MaxPartitions", "0")],
            [("HttpBreaker:Clients:github:PartitionIdleTimeout", "00:00:00.5")],
            [("HttpBreaker:Clients:github:FailureStatusCodes", "600")],
            [("HttpBreaker:Clients:github:PartitionBy", "Host")],
            [("HttpBreaker:Clients:github:SamplingDuration", "soon")],
            [("HttpBreaker:Clients:github:MinimumThroughput", "2.5")],
            [("HttpBreaker:Clients:github:FailureTreshold", "3")],
            [("HttpBreaker:Defaults:BreakDuration", "-00:00:01")],
            [("HttpBreaker:Defaults:Unknown", "1")],
            [("HttpBreaker:FailureThreshold", "3")],
        ];
        using var app = ReloadingApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "4" });
        CircuitPolicy before = app.Client.Policy;

        foreach ((string Key, string Value)[] edit in invalidEdits)
        {
            string description = string.Join(", ", edit.Select(e => $"{e.Key}={e.Value}"));
            int rejectedBefore = app.Logs.Entries.Count(e => e.EventId == 16);

            Assert.DoesNotThrow(() => app.Reload(edit), description);

            Assert.That(app.Logs.Entries.Count(e => e.EventId == 16), Is.EqualTo(rejectedBefore + 1), description);
            Assert.That(app.Client.Policy, Is.SameAs(before), description);
            app.Restore(edit);
        }

        Assert.That(app.Logs.Entries.Where(e => e.EventId == 17).Select(e => e.Message), Is.Empty, "every invalid value was a validation failure");
        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "6"));
        Assert.That(app.Client.Policy.FailureThreshold, Is.EqualTo(6), "a valid reload after all of them still applies");
    }

    [Test]
    public void Reload_InvalidSingleSection_NeverThrowsAndKeepsOptions()
    {
        // Both overloads that bind one section: for one client and for every client. The options monitor is in use,
        // which is what would make an invalid reload throw if it watched the section itself.
        foreach (bool everyClient in new[] { false, true })
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Breaker:FailureThreshold"] = "4",
            }).Build();
            var logs = new RecordingLoggerProvider();
            var services = new ServiceCollection();
            services.AddLogging(logging => logging.AddProvider(logs));
            if (everyClient)
            {
                services.AddHttpClient(Client);
                services.AddCircuitBreaker(configuration.GetSection("Breaker"));
            }
            else
            {
                services.AddHttpClient(Client).AddCircuitBreaker(configuration.GetSection("Breaker"));
            }

            using ServiceProvider provider = services.BuildServiceProvider();
            provider.GetRequiredService<IHttpClientFactory>().CreateClient(Client).Dispose();
            provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>().Get(Client);
            ClientCircuits client = provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient(Client);

            foreach ((string key, string value) in new[] { ("Breaker:FailureThreshold", "-3"), ("Breaker:FailureThreshold", "four"), ("Breaker:Threshold", "3") })
            {
                configuration[key] = value;
                Assert.DoesNotThrow(configuration.Reload, $"{key}={value}, every client: {everyClient}");
                configuration[key] = key == "Breaker:FailureThreshold" ? "4" : null;
            }

            Assert.That(client.Policy.FailureThreshold, Is.EqualTo(4), $"every client: {everyClient}");
            Assert.That(logs.Entries.Count(e => e.EventId == 16), Is.EqualTo(3), $"every client: {everyClient}");
        }
    }

    [Test]
    public void Reload_BeforeFirstClient_ClientStartsOnLatestValidOptions()
    {
        using var app = ReloadingApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "4" }, createClient: false);
        _ = app.Provider.GetRequiredService<CircuitBreakerRegistry>();

        Assert.DoesNotThrow(() => app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "-1")));
        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "9"));
        app.CreateHttpClient().Dispose();

        Assert.That(app.Client.Policy.FailureThreshold, Is.EqualTo(9));
        Assert.That(app.Logs.Entries.Where(e => e.EventId == 16), Is.Empty, "no client existed to reject the invalid reload for");
    }

    [Test]
    public void ConfigureCircuitBreakers_CalledTwice_LaterWinsAndBothReload()
    {
        var first = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["A:Defaults:FailureThreshold"] = "3",
            ["A:Clients:github:BreakDuration"] = "00:00:40",
        }).Build();
        var second = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["B:Clients:github:FailureThreshold"] = "7",
        }).Build();
        var services = new ServiceCollection();
        services.AddHttpClient(Client).AddCircuitBreaker();
        services.ConfigureCircuitBreakers(first.GetSection("A"));
        services.ConfigureCircuitBreakers(second.GetSection("B"));
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IHttpClientFactory>().CreateClient(Client).Dispose();
        ClientCircuits client = provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient(Client);
        Assert.That(client.Policy.FailureThreshold, Is.EqualTo(7));
        Assert.That(client.Policy.BreakDuration, Is.EqualTo(TimeSpan.FromSeconds(40)));

        first["A:Clients:github:BreakDuration"] = "00:00:50";
        first.Reload();
        Assert.That(client.Policy.BreakDuration, Is.EqualTo(TimeSpan.FromSeconds(50)));
        Assert.That(client.Policy.FailureThreshold, Is.EqualTo(7));

        second["B:Clients:github:FailureThreshold"] = "2";
        second.Reload();
        Assert.That(client.Policy.FailureThreshold, Is.EqualTo(2));
        Assert.That(client.Policy.BreakDuration, Is.EqualTo(TimeSpan.FromSeconds(50)));
    }

    // ---------------------------------------------------------------- telemetry

    [Test]
    public async Task Rejections_RacingHalfOpen_CountEqualsSyntheticResponses()
    {
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:FailureThreshold"] = "1",
            ["HttpBreaker:Clients:github:PermittedProbes"] = "5",
        });
        using MetricCollector<long> rejections = app.Collect<long>("httpbreaker.request.rejections");
        using MetricCollector<long> outcomes = app.Collect<long>("httpbreaker.request.outcomes");
        await app.SendAsync(Url, HttpStatusCode.InternalServerError);
        app.Time.Advance(TimeSpan.FromSeconds(30));
        using HttpClient client = app.CreateHttpClient();
        app.Status = HttpStatusCode.OK;
        app.Gate = new TaskCompletionSource();

        Task<HttpResponseMessage>[] calls = await Racing.StartTogetherAsync(64, () => client.GetAsync(Url));
        app.Gate.SetResult();
        HttpResponseMessage[] responses = await Task.WhenAll(calls);
        int synthetic = responses.Count(CircuitBreakerHandler.IsRejection);
        foreach (HttpResponseMessage response in responses)
        {
            response.Dispose();
        }

        IReadOnlyList<CollectedMeasurement<long>> rejected = rejections.GetMeasurementSnapshot();
        Assert.That(synthetic, Is.EqualTo(59), "five probes were admitted");
        Assert.That(rejected.Sum(m => m.Value), Is.EqualTo(synthetic));
        Assert.That(rejected.Select(m => m.Tags["httpbreaker.circuit.state"]), Is.All.EqualTo("half_open"));
        Assert.That(outcomes.GetMeasurementSnapshot().Sum(m => m.Value), Is.EqualTo(1 + 64 - synthetic), "every sent request has one outcome");
        Assert.That(app.UpstreamCalls, Is.EqualTo(1 + 64 - synthetic));
    }

    [Test]
    public async Task Transitions_RacingEverything_CountEqualsStateChangedEvents()
    {
        // Requests over more keys than the bound (so partitions are evicted), failures that open partitions,
        // operator isolation and resets, and threshold reloads all race. Every transition counted must be one
        // StateChanged event, and no event may go uncounted.
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:PartitionBy"] = "Authority",
            ["HttpBreaker:Clients:github:FailureThreshold"] = "2",
            ["HttpBreaker:Clients:github:MaxPartitions"] = "8",
            ["HttpBreaker:Clients:github:BreakDuration"] = "00:00:01",
        });
        app.StatusFor = request => request.RequestUri!.Host.StartsWith("bad", StringComparison.Ordinal) ? HttpStatusCode.InternalServerError : HttpStatusCode.OK;
        using MetricCollector<long> transitions = app.Collect<long>("httpbreaker.circuit.transitions");
        var events = new ConcurrentQueue<CircuitStateChangedEventArgs>();
        var sentinelSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Registry.StateChanged += (_, e) =>
        {
            if (e.CircuitName.EndsWith("/http://sentinel.test:80", StringComparison.Ordinal))
            {
                sentinelSeen.TrySetResult();
                return;
            }

            events.Enqueue(e);
        };
        using HttpClient client = app.CreateHttpClient();
        int next = 0;

        Task<int>[] senders = await Racing.StartTogetherAsync(3, async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                int n = Interlocked.Increment(ref next);
                string host = n % 3 == 0 ? $"bad{n % 5}.test" : $"ok{n % 12}.test";
                using HttpResponseMessage response = await client.GetAsync($"http://{host}/");
            }

            return 0;
        });
        Task operatorTask = Task.Run(() =>
        {
            for (int i = 0; i < 50; i++)
            {
                app.Reload(("HttpBreaker:Clients:github:FailureThreshold", (2 + (i % 3)).ToString(CultureInfo.InvariantCulture)));
                app.Registry.Isolate(Client);
                app.Registry.Reset(Client, $"http://bad{i % 5}.test:80");
                app.Registry.Reset(Client);
                app.Time.Advance(TimeSpan.FromMilliseconds(300));
            }
        });
        await Task.WhenAll([.. senders, operatorTask]);

        // Changes reach handlers in the order they happened, so once the sentinel's arrives every earlier one has.
        // Isolating the sentinel can evict a partition too, so the count is read after it.
        app.Registry.Isolate(Client, "http://sentinel.test:80");
        await sentinelSeen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        IReadOnlyList<CollectedMeasurement<long>> measured = transitions.GetMeasurementSnapshot();
        long countedWithoutSentinel = measured.Sum(m => m.Value) - 1;

        Assert.That(events.Count, Is.GreaterThan(100), "the race produced many transitions");
        Assert.That(events.Count(e => e.Reason == CircuitTransitionReason.Evicted), Is.GreaterThan(0), "evictions happened");
        Assert.That(app.Logs.Entries.Where(e => e.EventId == 14), Is.Empty, "no change was dropped");
        Assert.That(events.Count, Is.EqualTo(countedWithoutSentinel));
        foreach (IGrouping<string, CircuitStateChangedEventArgs> kind in events.GroupBy(e => $"{CircuitTelemetry.FormatState(e.From)}>{CircuitTelemetry.FormatState(e.To)}:{CircuitTelemetry.FormatReason(e.Reason)}"))
        {
            long countedOfKind = measured
                .Where(m => $"{m.Tags["httpbreaker.transition.from"]}>{m.Tags["httpbreaker.transition.to"]}:{m.Tags["httpbreaker.transition.reason"]}" == kind.Key)
                .Sum(m => m.Value);
            long sentinelOfKind = kind.Key == "closed>isolated:manual" ? 1 : 0;
            Assert.That(countedOfKind - sentinelOfKind, Is.EqualTo(kind.Count()), kind.Key);
        }
    }

    [Test]
    public async Task CircuitsGauge_PartitionsInEveryState_TotalsEqualGetCircuits()
    {
        using var app = ReloadingApp.Create(new()
        {
            ["HttpBreaker:Clients:github:PartitionBy"] = "Authority",
            ["HttpBreaker:Clients:github:FailureThreshold"] = "1",
        });
        using MetricCollector<int> gauge = app.Collect<int>("httpbreaker.circuits");
        await app.SendAsync("http://open.test/", HttpStatusCode.InternalServerError);
        await app.SendAsync("http://halfopen.test/", HttpStatusCode.InternalServerError);
        await app.SendAsync("http://closed.test/");
        app.Registry.Isolate(Client, "http://isolated.test:80");
        app.Time.Advance(TimeSpan.FromSeconds(29));
        await app.SendAsync("http://open.test/", HttpStatusCode.InternalServerError);
        app.Time.Advance(TimeSpan.FromSeconds(1));
        app.Gate = new TaskCompletionSource();
        using HttpClient client = app.CreateHttpClient();
        Task<HttpResponseMessage> probe = client.GetAsync("http://halfopen.test/");

        gauge.RecordObservableInstruments();
        Dictionary<string, int> fromGauge = gauge.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["httpbreaker.circuit.state"]!, m => m.Value);
        Dictionary<string, int> fromRegistry = app.Registry.GetCircuits()
            .GroupBy(c => CircuitTelemetry.FormatState(c.State))
            .ToDictionary(g => g.Key, g => g.Count());
        app.Gate.SetResult();
        (await probe).Dispose();

        Assert.That(fromGauge.Values.Sum(), Is.EqualTo(app.Registry.GetCircuits().Count));
        Assert.That(fromGauge, Is.EqualTo(new Dictionary<string, int> { ["closed"] = 2, ["open"] = 1, ["half_open"] = 1, ["isolated"] = 1 }));
        Assert.That(fromRegistry, Is.EquivalentTo(fromGauge.Where(pair => pair.Value > 0)));
    }

    [Test]
    public async Task Reload_PartitionKeyInMetricsTurnedOn_TagsFromNextRequest()
    {
        using var app = ReloadingApp.Create(new() { ["HttpBreaker:Clients:github:PartitionBy"] = "Authority" });
        using MetricCollector<long> outcomes = app.Collect<long>("httpbreaker.request.outcomes");
        await app.SendAsync("http://a.test/");
        Assert.That(outcomes.LastMeasurement!.Tags.ContainsKey("httpbreaker.partition.key"), Is.False);

        app.Reload(("HttpBreaker:Clients:github:IncludePartitionKeyInMetrics", "true"));
        await app.SendAsync("http://a.test/");
        Assert.That(outcomes.LastMeasurement!.Tags["httpbreaker.partition.key"], Is.EqualTo("http://a.test:80"), "an existing partition");
        await app.SendAsync("http://b.test/");
        Assert.That(outcomes.LastMeasurement!.Tags["httpbreaker.partition.key"], Is.EqualTo("http://b.test:80"), "a new partition");

        app.Reload(("HttpBreaker:Clients:github:IncludePartitionKeyInMetrics", "false"));
        await app.SendAsync("http://a.test/");
        Assert.That(outcomes.LastMeasurement!.Tags.ContainsKey("httpbreaker.partition.key"), Is.False);
    }

    /// <summary>
    /// An application whose client <c>github</c> reads its breaker options from an in-memory configuration and
    /// sends to MockHttp. While <see cref="Gate"/> is set, the upstream delays each response until the gate completes.
    /// </summary>
    private sealed class ReloadingApp : IDisposable
    {
        private readonly IConfigurationRoot _configuration;
        private readonly Dictionary<string, string?> _initial;
        private readonly EditableProvider _settings = new();
        private readonly MockHttpMessageHandler _mock = new();

        private ReloadingApp(Dictionary<string, string?> settings, bool createClient)
        {
            _initial = new Dictionary<string, string?>(settings);
            _configuration = new ConfigurationBuilder().Add(new EditableSource(_settings, settings)).Build();
            Upstream = _mock.When("*").Respond(async request =>
            {
                if (Gate is { } gate)
                {
                    await gate.Task;
                }

                return new HttpResponseMessage(StatusFor?.Invoke(request) ?? Status);
            });

            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(Time);
            services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
            services.AddHttpClient(ReloadAdversarialTests.Client).ConfigurePrimaryHttpMessageHandler(() => _mock).AddCircuitBreaker();
            services.ConfigureCircuitBreakers(_configuration.GetSection("HttpBreaker"));
            Provider = services.BuildServiceProvider();

            if (createClient)
            {
                CreateHttpClient().Dispose();
            }
        }

        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

        public RecordingLoggerProvider Logs { get; } = new();

        public ServiceProvider Provider { get; }

        public MockedRequest Upstream { get; }

        public int UpstreamCalls => _mock.GetMatchCount(Upstream);

        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

        public TaskCompletionSource? Gate { get; set; }

        /// <summary>Gets or sets the upstream's status per request, in place of <see cref="Status"/>.</summary>
        public Func<HttpRequestMessage, HttpStatusCode>? StatusFor { get; set; }

        public MetricCollector<T> Collect<T>(string instrument)
            where T : struct =>
            new(Provider.GetRequiredService<IMeterFactory>(), "HttpBreaker", instrument);

        public ICircuitBreakerRegistry Registry => Provider.GetRequiredService<ICircuitBreakerRegistry>();

        public ClientCircuits Client => Provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient(ReloadAdversarialTests.Client);

        public CircuitSnapshot Snapshot =>
            Registry.TryGetCircuit(ReloadAdversarialTests.Client, out CircuitSnapshot? snapshot) ? snapshot : throw new InvalidOperationException("No circuit yet.");

        public static ReloadingApp Create(Dictionary<string, string?> settings, bool createClient = true) => new(settings, createClient);

        public HttpClient CreateHttpClient()
        {
            HttpClient client = Provider.GetRequiredService<IHttpClientFactory>().CreateClient(ReloadAdversarialTests.Client);
            client.Timeout = TimeSpan.FromSeconds(10);
            return client;
        }

        public async Task SendAsync(string url, HttpStatusCode status = HttpStatusCode.OK)
        {
            Status = status;
            using HttpClient client = CreateHttpClient();
            using HttpResponseMessage response = await client.GetAsync(url);
        }

        /// <summary>Changes settings and reloads the configuration, as a changed appsettings.json file does.</summary>
        public void Reload(params (string Key, string Value)[] changes)
        {
            foreach ((string key, string value) in changes)
            {
                _configuration[key] = value;
            }

            _configuration.Reload();
        }

        /// <summary>Puts the keys of an edit back to their initial values, or removes them, without reloading.</summary>
        public void Restore((string Key, string Value)[] changes)
        {
            foreach ((string key, _) in changes)
            {
                if (_initial.TryGetValue(key, out string? value))
                {
                    _settings.Set(key, value);
                }
                else
                {
                    _settings.Remove(key);
                }
            }
        }

        public void Dispose()
        {
            Provider.Dispose();
            _mock.Dispose();
        }
    }

    /// <summary>An in-memory configuration source whose keys can also be removed, as when a line leaves a file.</summary>
    private sealed class EditableSource(EditableProvider provider, Dictionary<string, string?> settings) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder)
        {
            foreach ((string key, string? value) in settings)
            {
                provider.Set(key, value);
            }

            return provider;
        }
    }

    private sealed class EditableProvider : ConfigurationProvider
    {
        public void Remove(string key) => Data.Remove(key);
    }

    /// <summary>
    /// An options cache that, once armed, pauses the first clear until a read has taken a cached value, and blocks
    /// that read until the test sets <see cref="ReloadDone"/>.
    /// </summary>
    private sealed class PausingOptionsCache : IOptionsMonitorCache<CircuitBreakerOptions>
    {
        private readonly OptionsCache<CircuitBreakerOptions> _inner = new();

        public bool Armed { get; set; }

        public ManualResetEventSlim Clearing { get; } = new();

        public ManualResetEventSlim StaleRead { get; } = new();

        public ManualResetEventSlim ReloadDone { get; } = new();

        public void Clear()
        {
            if (Armed && !Clearing.IsSet)
            {
                Clearing.Set();
                StaleRead.Wait(TimeSpan.FromSeconds(10));
            }

            _inner.Clear();
        }

        public CircuitBreakerOptions GetOrAdd(string? name, Func<CircuitBreakerOptions> createOptions)
        {
            CircuitBreakerOptions options = _inner.GetOrAdd(name, createOptions);
            if (Armed && Clearing.IsSet && !StaleRead.IsSet)
            {
                StaleRead.Set();
                ReloadDone.Wait(TimeSpan.FromSeconds(10));
            }

            return options;
        }

        public bool TryAdd(string? name, CircuitBreakerOptions options) => _inner.TryAdd(name, options);

        public bool TryRemove(string? name) => _inner.TryRemove(name);
    }

    private sealed class TenantKey(string header)
    {
        public string? Read(HttpRequestMessage request) =>
            request.Headers.TryGetValues(header, out IEnumerable<string>? values) ? values.First() : null;
    }
}
