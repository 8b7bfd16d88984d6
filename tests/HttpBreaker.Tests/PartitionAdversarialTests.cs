using System.Net;
using System.Threading.Channels;
using HttpBreaker.Internal;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

/// <summary>
/// Tests that attack partitioned circuits, the bound on the partition table, manual control of partitions and the
/// order of state changes. Races that need one thread to stop at an exact point use <see cref="PausingClock"/>.
/// </summary>
public class PartitionAdversarialTests
{
    private const string Client = "github";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    // ---------------------------------------------------------------- manual control

    [Test]
    public async Task ResetClient_DuringIsolatedCreation_LeavesClosed()
    {
        var clock = new PausingClock();
        using var mock = NewUpstream();
        await using ServiceProvider provider = Build(clock, mock, o => o.PartitionKey = HostKey);
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);
        registry.Isolate(Client);

        // The new key's circuit is created isolated because the client is isolated. The clock pauses the request
        // there, before the circuit joins the table, and the operator resets the whole client meanwhile.
        Task<Task<HttpResponseMessage>> pending = clock.RunPausedAsync(skip: 0, () => client.GetAsync("http://late.test/ok"));
        await clock.WhenPausedAsync();
        registry.Reset(Client);
        clock.Resume();
        (await await pending).Dispose();

        using HttpResponseMessage afterReset = await client.GetAsync("http://late.test/ok");

        Assert.That(registry.TryGetCircuit(Client, "late.test", out CircuitSnapshot? snapshot), Is.True);
        Assert.That(snapshot!.State, Is.EqualTo(CircuitState.Closed), "Reset(client) returned, so no circuit of the client stays isolated");
        Assert.That(CircuitBreakerHandler.IsRejection(afterReset), Is.False, "a request sent after Reset(client) returned was rejected");
    }

    [Test]
    public async Task IsolateClient_RacingNewKeys_IsolatesAll()
    {
        // A circuit built just before Isolate(client) sets its flag, and added just after it lists the circuits, is
        // missed by both. One thread sends fresh keys nonstop while this one isolates and resets the client.
        // After each Isolate(client) returns, every circuit must be isolated. The loop stops at the first escape
        // or after five seconds.
        using var mock = NewUpstream();
        await using ServiceProvider provider = Build(new FakeTimeProvider(), mock, o =>
        {
            o.PartitionKey = request => request.Headers.TryGetValues("X-Key", out IEnumerable<string>? values) ? values.First() : null;
            o.MaxPartitions = 64;
            o.PartitionIdleTimeout = null;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using var invoker = new HttpMessageInvoker(RegistrationTests.BuildHandlerChain(provider, Client));
        using var stop = new CancellationTokenSource();
        int next = 0;
        Task sender = Task.Factory.StartNew(
            () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "http://keys.test/ok");
                    request.Headers.Add("X-Key", $"k{Interlocked.Increment(ref next)}");
                    invoker.Send(request, CancellationToken.None).Dispose();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        string[] escaped = [];
        int rounds = 0;
        var budget = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (escaped.Length == 0 && budget.Elapsed < TimeSpan.FromSeconds(5))
            {
                rounds++;
                registry.Isolate(Client);
                escaped = [.. registry.GetCircuits().Where(c => c.State != CircuitState.Isolated).Select(c => c.Name)];
                registry.Reset(Client);
            }
        }
        finally
        {
            stop.Cancel();
            await sender.WaitAsync(Patience);
        }

        Assert.That(escaped, Is.Empty, $"Isolate(client) returned in round {rounds}, yet these circuits were not isolated");
    }

        [Test]
    public async Task IsolatePartition_DuringEviction_KeepsCircuit()
    {
        var clock = new PausingClock();
        using var mock = NewUpstream();
        await using ServiceProvider provider = Build(clock, mock, o =>
        {
            o.PartitionKey = HostKey;
            o.MaxPartitions = 16;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        registry.StateChanged += (_, _) => { };
        using HttpClient client = CreateClient(provider);
        for (int i = 0; i < 16; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            using HttpResponseMessage response = await client.GetAsync($"http://k{i}.test/ok");
        }

        // A new key at the bound evicts the two least recently used closed circuits, k0 then k1. The clock pauses
        // the eviction as it reports k0, and meanwhile the operator isolates k1.
        Task<Task<HttpResponseMessage>> pending = clock.RunPausedAsync(skip: 0, () => client.GetAsync("http://new.test/ok"));
        await clock.WhenPausedAsync();
        registry.Isolate(Client, "k1.test");
        clock.Resume();
        (await await pending).Dispose();

        Assert.That(registry.TryGetCircuit(Client, "k1.test", out CircuitSnapshot? snapshot), Is.True, "the isolated circuit of k1 was evicted");
        Assert.That(snapshot!.State, Is.EqualTo(CircuitState.Isolated));
        using HttpResponseMessage afterIsolate = await client.GetAsync("http://k1.test/ok");
        Assert.That(CircuitBreakerHandler.IsRejection(afterIsolate), Is.True, "k1 is isolated, so its requests are rejected");
    }

    [Test]
    public async Task IsolateClient_LaterPartition_RejectsWithoutRetryAfter()
    {
        using var mock = NewUpstream(out MockedRequest upstream);
        await using ServiceProvider provider = Build(new FakeTimeProvider(), mock, o => o.PartitionBy = PartitionBy.Authority);
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);
        registry.Isolate(Client);

        using HttpResponseMessage response = await client.GetAsync("http://later.test/ok");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.True);
        Assert.That(response.Headers.RetryAfter, Is.Null);
        Assert.That(response.Headers.GetValues(CircuitBreakerHandler.RejectionHeaderName), Is.EqualTo(new[] { "isolated" }));
        Assert.That(mock.GetMatchCount(upstream), Is.Zero);
    }

    // ---------------------------------------------------------------- StateChanged order

    [Test]
    public async Task StateChanged_IsolateRacingReset_KeepsOrder()
    {
        var clock = new PausingClock();
        using var mock = NewUpstream();
        await using ServiceProvider provider = Build(clock, mock, o => o.FailureThreshold = 1);
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);
        (await client.GetAsync("http://one.test/ok")).Dispose();
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(registry);

        // Isolate reads the clock once to build the isolated phase and once more, after the swap, to date the
        // change. The second read is paused while Reset runs to completion.
        Task<int> isolating = clock.RunPausedAsync(skip: 1, () =>
        {
            registry.Isolate(Client);
            return 0;
        });
        await clock.WhenPausedAsync();
        registry.Reset(Client);
        clock.Resume();
        await isolating;

        CircuitStateChangedEventArgs[] received = await TakeAsync(changes, 2);
        Assert.That(registry.TryGetCircuit(Client, out CircuitSnapshot? snapshot) ? snapshot.State : (CircuitState?)null, Is.EqualTo(CircuitState.Closed));
        Assert.That(received.Select(c => (c.From, c.To)), Is.EqualTo(new[]
        {
            (CircuitState.Closed, CircuitState.Isolated),
            (CircuitState.Isolated, CircuitState.Closed),
        }), "the circuit was isolated and then reset, and is closed now");
    }

    [Test]
    public async Task StateChanged_EvictionRacingSameKey_KeepsOrder()
    {
        var clock = new PausingClock();
        using var mock = NewUpstream();
        await using ServiceProvider provider = Build(clock, mock, o =>
        {
            o.PartitionKey = HostKey;
            o.MaxPartitions = 1;
            o.FailureThreshold = 1;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);
        (await client.GetAsync("http://a.test/ok")).Dispose();
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(registry);

        // b evicts a. The clock pauses the eviction as it dates the change, and meanwhile a's next request builds
        // a fresh circuit for a and trips it.
        Task<Task<HttpResponseMessage>> pending = clock.RunPausedAsync(skip: 0, () => client.GetAsync("http://b.test/ok"));
        await clock.WhenPausedAsync();
        (await client.GetAsync("http://a.test/fail")).Dispose();
        clock.Resume();
        (await await pending).Dispose();

        // Whichever way the eviction and the trip interleave, the last change reported for a must describe what the
        // registry contains for a: its circuit's state, or an eviction when it contains none.
        CircuitStateChangedEventArgs[] received = await TakeAsync(changes, 2);
        CircuitStateChangedEventArgs last = received.Last(c => c.CircuitName == "github/a.test");
        bool exists = registry.TryGetCircuit(Client, "a.test", out CircuitSnapshot? snapshot);
        Assert.That(received.Select(c => c.CircuitName), Is.All.EqualTo("github/a.test"));
        if (exists)
        {
            Assert.That(last.To, Is.EqualTo(snapshot!.State));
            Assert.That(last.Reason, Is.Not.EqualTo(CircuitTransitionReason.Evicted));
        }
        else
        {
            Assert.That(last.Reason, Is.EqualTo(CircuitTransitionReason.Evicted));
        }
    }

    [Test]
    public async Task StateChanged_PartitionCycle_ReportsNameAndOrder()
    {
        using var mock = NewUpstream();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using ServiceProvider provider = Build(clock, mock, o =>
        {
            o.PartitionBy = PartitionBy.Authority;
            o.FailureThreshold = 1;
            o.BreakDuration = TimeSpan.FromSeconds(30);
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(registry);
        using HttpClient client = CreateClient(provider);

        (await client.GetAsync("http://a.test/fail")).Dispose();
        (await client.GetAsync("http://b.test/ok")).Dispose();
        DateTimeOffset opened = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromSeconds(30));
        (await client.GetAsync("http://a.test/ok")).Dispose();

        CircuitStateChangedEventArgs[] received = await TakeAsync(changes, 3);
        Assert.That(received.Select(c => c.CircuitName), Is.All.EqualTo("github/http://a.test:80"));
        Assert.That(received.Select(c => c.PartitionKey), Is.All.EqualTo("http://a.test:80"));
        Assert.That(received.Select(c => c.ClientName), Is.All.EqualTo(Client));
        Assert.That(received.Select(c => c.Reason), Is.EqualTo(new[]
        {
            CircuitTransitionReason.FailureThreshold, CircuitTransitionReason.BreakElapsed, CircuitTransitionReason.ProbeSucceeded,
        }));
        Assert.That(received[0].Timestamp, Is.EqualTo(opened));
        Assert.That(received[2].Timestamp, Is.EqualTo(opened + TimeSpan.FromSeconds(30)));
    }

    [Test]
    public async Task StateChanged_SelfUnsubscribe_StopsOnlyThatHandler()
    {
        using var mock = NewUpstream();
        await using ServiceProvider provider = Build(new FakeTimeProvider(), mock, o => o.FailureThreshold = 1);
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        int calls = 0;
        void Once(object? sender, CircuitStateChangedEventArgs change)
        {
            Interlocked.Increment(ref calls);
            registry.StateChanged -= Once;
        }

        registry.StateChanged += Once;
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(registry);
        using HttpClient client = CreateClient(provider);

        (await client.GetAsync("http://one.test/fail")).Dispose();
        registry.Reset(Client);
        registry.Isolate(Client);
        registry.Reset(Client);

        Assert.That(await TakeAsync(changes, 4), Has.Length.EqualTo(4));
        Assert.That(Volatile.Read(ref calls), Is.EqualTo(1));
    }

    [Test]
    public async Task Dispose_SubscriberBlocked_ReturnsPromptly()
    {
        using var mock = NewUpstream();
        ServiceProvider provider = Build(new FakeTimeProvider(), mock, o =>
        {
            o.PartitionBy = PartitionBy.Authority;
            o.FailureThreshold = 1;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using var release = new ManualResetEventSlim();
        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.StateChanged += (_, _) =>
        {
            blocked.TrySetResult();
            release.Wait(Patience);
        };

        try
        {
            using HttpClient client = CreateClient(provider);
            for (int i = 0; i < 50; i++)
            {
                using HttpResponseMessage response = await client.GetAsync($"http://h{i}.test/fail");
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            }

            await blocked.Task.WaitAsync(Patience);
            Task disposing = Task.Run(provider.Dispose);
            await disposing.WaitAsync(Patience);
            Assert.That(disposing.IsCompletedSuccessfully, Is.True);
        }
        finally
        {
            release.Set();
            await provider.DisposeAsync();
        }
    }

    // ---------------------------------------------------------------- authority keys

    [Test]
    public async Task Authority_CasePortUserInfo_ShareCircuit()
    {
        using var mock = NewUpstream();
        await using ServiceProvider provider = Build(new FakeTimeProvider(), mock, o =>
        {
            o.PartitionBy = PartitionBy.Authority;
            o.FailureThreshold = 3;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);

        (await client.GetAsync("HTTP://A.TEST/fail")).Dispose();
        (await client.GetAsync("http://a.test:80/fail")).Dispose();
        (await client.GetAsync("http://user:secret@a.test/fail")).Dispose();
        (await client.GetAsync("http://a.test:8080/ok")).Dispose();
        (await client.GetAsync("https://a.test/ok")).Dispose();

        Assert.That(registry.GetCircuits().Where(c => c.PartitionKey is not null).Select(c => (c.PartitionKey, c.State)), Is.EquivalentTo(new[]
        {
            ("http://a.test:80", CircuitState.Open),
            ("http://a.test:8080", CircuitState.Closed),
            ("https://a.test:443", CircuitState.Closed),
        }));
        Assert.That(registry.GetCircuits().Select(c => c.Name), Has.None.Contains("secret"), "user info never reaches a circuit name");
    }

    [Test]
    public async Task Authority_UnicodeAndPunycode_ShareCircuit()
    {
        using var mock = NewUpstream();
        await using ServiceProvider provider = Build(new FakeTimeProvider(), mock, o => o.PartitionBy = PartitionBy.Authority);
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);

        (await client.GetAsync("http://b\u00fccher.test/ok")).Dispose();
        (await client.GetAsync("http://xn--bcher-kva.test/ok")).Dispose();

        Assert.That(registry.GetCircuits().Where(c => c.PartitionKey is not null).Select(c => c.PartitionKey), Is.EqualTo(new[] { "http://xn--bcher-kva.test:80" }));
    }

    [Test]
    public async Task Authority_LoopbackSpellings_ShareOneCircuit()
    {
        await using LoopbackUpstream upstream = await LoopbackUpstream.StartAsync();
        int port = upstream.BaseAddress.Port;
        await using ServiceProvider provider = Build(new FakeTimeProvider(), primary: null, o => o.PartitionBy = PartitionBy.Authority);
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);

        foreach (string spelling in new[] { "127.0.0.1", "127.1", "0x7f000001", "2130706433" })
        {
            using HttpResponseMessage response = await client.GetAsync($"http://{spelling}:{port}/");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), spelling);
        }

        Assert.That(upstream.Received, Is.EqualTo(4));
        Assert.That(registry.GetCircuits().Where(c => c.PartitionKey is not null).Select(c => c.PartitionKey), Is.EqualTo(new[] { $"http://127.0.0.1:{port}" }));
    }

    [TestCase("http://[::1]:8080/", "http://[::1]:8080")]
    [TestCase("http://[0:0:0:0:0:0:0:1]/", "http://[::1]:80")]
    [TestCase("https://[::ffff:127.0.0.1]/", "https://[::ffff:127.0.0.1]:443")]
    public async Task Authority_Ipv6Literal_KeepsBrackets(string url, string expectedKey)
    {
        // The key is computed without sending anything: no request leaves for these addresses.
        await using ServiceProvider provider = Build(new FakeTimeProvider(), primary: null, o => o.PartitionBy = PartitionBy.Authority);
        ClientCircuits circuits = provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient(Client);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);

        string? key = circuits.GetPartitionKey(request);

        Assert.That(key, Is.EqualTo(expectedKey), "an IPv6 host loses its brackets, so the key is not the scheme, host and port that Isolate(client, key) is given");
    }

    // ---------------------------------------------------------------- custom keys and the synchronous path

    [Test]
    public async Task PartitionKey_Throwing_ReachesCallerOnly()
    {
        using var mock = NewUpstream(out MockedRequest upstream);
        await using ServiceProvider provider = Build(new FakeTimeProvider(), mock, o =>
        {
            o.PartitionKey = request => request.RequestUri!.Host == "bad.test" ? throw new FormatException("no key") : request.RequestUri.Host;
            o.MaxPartitions = 1;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);

        for (int i = 0; i < 5; i++)
        {
            Assert.ThrowsAsync<FormatException>(() => client.GetAsync("http://bad.test/ok"));
            Assert.Throws<FormatException>(() => client.Send(new HttpRequestMessage(HttpMethod.Get, "http://bad.test/ok")));
        }

        (await client.GetAsync("http://good.test/ok")).Dispose();

        Assert.That(mock.GetMatchCount(upstream), Is.EqualTo(1), "only the good request was sent");
        Assert.That(registry.TryGetCircuit(Client, "good.test", out _), Is.True, "the throwing key left the only place free");
        Assert.That(registry.GetCircuits().Select(c => c.Name), Is.EqualTo(new[] { "github", "github/good.test" }));
    }

    [Test]
    public async Task SyncSend_Partitions_ReleasesLease()
    {
        var upstream = new SyncOnlyHandler();
        await using ServiceProvider provider = Build(new FakeTimeProvider(), upstream, o =>
        {
            o.PartitionBy = PartitionBy.Authority;
            o.FailureThreshold = 2;
            o.MaxPartitions = 2;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);

        client.Send(new HttpRequestMessage(HttpMethod.Get, "http://a.test/fail")).Dispose();
        client.Send(new HttpRequestMessage(HttpMethod.Get, "http://a.test/fail")).Dispose();
        using HttpResponseMessage rejected = client.Send(new HttpRequestMessage(HttpMethod.Get, "http://a.test/ok"));
        using HttpResponseMessage passed = client.Send(new HttpRequestMessage(HttpMethod.Get, "http://b.test/ok"));
        client.Send(new HttpRequestMessage(HttpMethod.Get, "http://c.test/ok")).Dispose();

        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(upstream.Calls, Is.EqualTo(4));
        Assert.That(
            registry.GetCircuits().Where(c => c.PartitionKey is not null).Select(c => (c.PartitionKey, c.State)),
            Is.EquivalentTo(new[] { ("http://a.test:80", CircuitState.Open), ("http://c.test:80", CircuitState.Closed) }),
            "b's synchronous lease was released, so c evicted b rather than the open a");
    }

    // ---------------------------------------------------------------- the bound under concurrency

    [TestCase(1)]
    [TestCase(2)]
    [Repeat(5)]
    public async Task TinyBound_ManyKeysConcurrently_StaysBounded(int maxPartitions)
    {
        var gate = new GatedHandler();
        await using ServiceProvider provider = Build(new FakeTimeProvider(), gate, o =>
        {
            o.PartitionKey = HostKey;
            o.MaxPartitions = maxPartitions;
        });
        PartitionTable table = provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient(Client).Partitions!;
        using HttpClient client = CreateClient(provider);
        int next = 0;
        int maxSeen = 0;

        // The gate keeps every request pending, so at first every circuit is busy and the bound can only be kept by sending the
        // rest through the client's own circuit.
        Task<HttpResponseMessage>[] firstBatch = await Racing.StartTogetherAsync(48, () =>
        {
            Task<HttpResponseMessage> sending = client.GetAsync($"http://k{Interlocked.Increment(ref next)}.test/ok");
            InterlockedMax(ref maxSeen, table.Count);
            return sending;
        });

        Assert.That(gate.Received, Is.EqualTo(48), "every request was sent, through a partition or the client's circuit");
        Assert.That(table.Count, Is.InRange(1, maxPartitions));
        Assert.That(table.Entries.Count(), Is.EqualTo(table.Count));

        // Release them while new keys keep arriving, so eviction races the releases.
        Task<Task<HttpResponseMessage>[]> churn = Racing.StartTogetherAsync(48, () =>
        {
            Task<HttpResponseMessage> sending = client.GetAsync($"http://k{Interlocked.Increment(ref next)}.test/ok");
            InterlockedMax(ref maxSeen, table.Count);
            return sending;
        });
        for (int i = 0; i < 48; i++)
        {
            gate.Next().Respond(HttpStatusCode.OK);
        }

        Task<HttpResponseMessage>[] later = await churn;
        Assert.That(gate.Received, Is.EqualTo(96));
        for (int i = 0; i < 48; i++)
        {
            gate.Next().Respond(HttpStatusCode.OK);
        }

        await Task.WhenAll(firstBatch.Concat(later)).WaitAsync(Patience);

        Assert.That(maxSeen, Is.LessThanOrEqualTo(maxPartitions));
        Assert.That(table.Count, Is.InRange(0, maxPartitions));
        Assert.That(table.Entries.Count(), Is.EqualTo(table.Count), "the count matches the entries");
        Assert.That(table.Entries.Where(e => e.IsInFlight), Is.Empty, "every lease was released");

        // With nothing in flight, a fresh key must get its own circuit: no place was lost on the way.
        (await SendAndRespondAsync(client, gate, "http://fresh.test/ok")).Dispose();
        Assert.That(table.Entries.Select(e => e.Key), Does.Contain("fresh.test"));
    }

    [Test]
    public async Task AllBusy_NewKey_UsesClientCircuit()
    {
        var gate = new GatedHandler();
        await using ServiceProvider provider = Build(new FakeTimeProvider(), gate, o =>
        {
            o.PartitionKey = HostKey;
            o.MaxPartitions = 1;
            o.FailureThreshold = 1;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);

        Task<HttpResponseMessage> busy = client.GetAsync("http://busy.test/ok");
        Task<HttpResponseMessage> overflow = client.GetAsync("http://over.test/ok");
        Assert.That(registry.TryGetCircuit(Client, "over.test", out _), Is.False, "the only place is busy");
        gate.TakeNewest().Respond(HttpStatusCode.InternalServerError);
        (await overflow).Dispose();
        Assert.That(registry.TryGetCircuit(Client, out CircuitSnapshot? own) ? own.State : (CircuitState?)null, Is.EqualTo(CircuitState.Open), "the overflow's failure counted on the client's circuit");

        gate.Next().Respond(HttpStatusCode.OK);
        (await busy).Dispose();
        Task<HttpResponseMessage> again = client.GetAsync("http://over.test/ok");
        Assert.That(registry.TryGetCircuit(Client, "over.test", out CircuitSnapshot? own2) ? own2.State : (CircuitState?)null, Is.EqualTo(CircuitState.Closed));
        gate.Next().Respond(HttpStatusCode.OK);
        using HttpResponseMessage response = await again;
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task EvictionOrder_MatchesDocumentedTimeline()
    {
        using var mock = NewUpstream();
        var clock = new FakeTimeProvider();
        await using ServiceProvider provider = Build(clock, mock, o =>
        {
            o.PartitionKey = HostKey;
            o.MaxPartitions = 2;
            o.FailureThreshold = 1;
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);

        foreach (string url in new[] { "http://a.test/ok", "http://b.test/fail", "http://c.test/ok", "http://d.test/ok" })
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            (await client.GetAsync(url)).Dispose();
        }

        Assert.That(registry.GetCircuits().Where(c => c.PartitionKey is not null).Select(c => c.PartitionKey), Is.EquivalentTo(new[] { "b.test", "d.test" }));
    }

    // ---------------------------------------------------------------- idle timeout

    [Test]
    public async Task IdleTimeout_DropsOnlyIdleClosedCircuits()
    {
        var gate = new GatedHandler();
        var clock = new FakeTimeProvider();
        await using ServiceProvider provider = Build(clock, gate, o =>
        {
            o.PartitionKey = HostKey;
            o.FailureThreshold = 1;
            o.BreakDuration = TimeSpan.FromHours(1);
            o.MaxBreakDuration = TimeSpan.FromHours(1);
            o.PartitionIdleTimeout = TimeSpan.FromMinutes(1);
        });
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        using HttpClient client = CreateClient(provider);

        (await SendAndRespondAsync(client, gate, "http://idle.test/ok")).Dispose();
        (await SendAndRespondAsync(client, gate, "http://open.test/ok", HttpStatusCode.InternalServerError)).Dispose();
        Task<HttpResponseMessage> inFlight = client.GetAsync("http://busy.test/ok");
        registry.Isolate(Client, "iso.test");

        clock.Advance(TimeSpan.FromSeconds(50));
        (await SendAndRespondAsync(client, gate, "http://tick.test/ok")).Dispose();
        Assert.That(registry.TryGetCircuit(Client, "idle.test", out _), Is.True, "not idle for a minute yet");

        clock.Advance(TimeSpan.FromSeconds(30));
        (await SendAndRespondAsync(client, gate, "http://tick2.test/ok")).Dispose();

        Assert.That(registry.TryGetCircuit(Client, "idle.test", out _), Is.False, "idle and closed for over a minute");
        Assert.That(registry.TryGetCircuit(Client, "open.test", out CircuitSnapshot? open) ? open.State : (CircuitState?)null, Is.EqualTo(CircuitState.Open));
        Assert.That(registry.TryGetCircuit(Client, "busy.test", out _), Is.True, "a circuit with a request in flight stays");
        Assert.That(registry.TryGetCircuit(Client, "iso.test", out CircuitSnapshot? iso) ? iso.State : (CircuitState?)null, Is.EqualTo(CircuitState.Isolated));

        gate.Next().Respond(HttpStatusCode.OK);
        (await inFlight).Dispose();
    }

    // ---------------------------------------------------------------- helpers

    private static string? HostKey(HttpRequestMessage request) => request.RequestUri?.Host;

    private static MockHttpMessageHandler NewUpstream() => NewUpstream(out _);

    private static MockHttpMessageHandler NewUpstream(out MockedRequest upstream)
    {
        var mock = new MockHttpMessageHandler();
        upstream = mock.When("*").Respond(request => new HttpResponseMessage(
            request.RequestUri!.AbsolutePath.EndsWith("/fail", StringComparison.Ordinal) ? HttpStatusCode.InternalServerError : HttpStatusCode.OK));
        return mock;
    }

    private static ServiceProvider Build(TimeProvider clock, HttpMessageHandler? primary, Action<CircuitBreakerOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton(clock);
        IHttpClientBuilder builder = services.AddHttpClient(Client);
        if (primary is not null)
        {
            builder.ConfigurePrimaryHttpMessageHandler(() => primary);
        }

        builder.AddCircuitBreaker(configure);
        return services.BuildServiceProvider();
    }

    private static HttpClient CreateClient(IServiceProvider provider)
    {
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(Client);
        client.Timeout = Patience;
        return client;
    }

    private static async Task<HttpResponseMessage> SendAndRespondAsync(HttpClient client, GatedHandler gate, string url, HttpStatusCode status = HttpStatusCode.OK)
    {
        int before = gate.Received;
        Task<HttpResponseMessage> sending = client.GetAsync(url);
        if (gate.Received > before)
        {
            gate.TakeNewest().Respond(status);
        }

        return await sending.WaitAsync(Patience);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static Channel<CircuitStateChangedEventArgs> Subscribe(ICircuitBreakerRegistry registry)
    {
        Channel<CircuitStateChangedEventArgs> changes = Channel.CreateUnbounded<CircuitStateChangedEventArgs>();
        registry.StateChanged += (_, change) => changes.Writer.TryWrite(change);
        return changes;
    }

    private static async Task<CircuitStateChangedEventArgs[]> TakeAsync(Channel<CircuitStateChangedEventArgs> changes, int count)
    {
        using var giveUp = new CancellationTokenSource(Patience);
        var changesRead = new CircuitStateChangedEventArgs[count];
        for (int i = 0; i < count; i++)
        {
            changesRead[i] = await changes.Reader.ReadAsync(giveUp.Token);
        }

        return changesRead;
    }

    /// <summary>
    /// A fake clock that can pause one chosen thread inside a call to <see cref="GetUtcNow"/>, so a test stops the
    /// breaker at an exact point of its work and acts on another thread meanwhile. Other threads never pause.
    /// </summary>
    private sealed class PausingClock : FakeTimeProvider
    {
        [ThreadStatic]
        private static PausingClock? t_pausedBy;

        [ThreadStatic]
        private static int t_skip;

        [ThreadStatic]
        private static bool t_readingTimestamp;

        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public PausingClock()
            : base(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero))
        {
        }

        /// <summary>
        /// Runs <paramref name="work"/> on a thread of its own, paused at its first read of the clock after
        /// <paramref name="skip"/> reads.
        /// </summary>
        public Task<T> RunPausedAsync<T>(int skip, Func<T> work) => Task.Factory.StartNew(
            () =>
            {
                t_pausedBy = this;
                t_skip = skip;
                try
                {
                    return work();
                }
                finally
                {
                    t_pausedBy = null;
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        public Task WhenPausedAsync() => _paused.Task.WaitAsync(Patience);

        public void Resume() => _resume.TrySetResult();

        /// <summary>
        /// Reads the monotonic clock without pausing. The base class derives it from <see cref="GetUtcNow"/>, and
        /// only the breaker's own reads of the wall clock are counted and paused.
        /// </summary>
        public override long GetTimestamp()
        {
            t_readingTimestamp = true;
            try
            {
                return base.GetTimestamp();
            }
            finally
            {
                t_readingTimestamp = false;
            }
        }

        public override DateTimeOffset GetUtcNow()
        {
            if (ReferenceEquals(t_pausedBy, this) && !t_readingTimestamp)
            {
                if (t_skip > 0)
                {
                    t_skip--;
                }
                else
                {
                    t_pausedBy = null;
                    _paused.TrySetResult();
                    _resume.Task.Wait(Patience);
                }
            }

            return base.GetUtcNow();
        }
    }

    /// <summary>A terminal handler that supports only the synchronous <see cref="HttpMessageHandler.Send"/>.</summary>
    private sealed class SyncOnlyHandler : HttpMessageHandler
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return new HttpResponseMessage(
                request.RequestUri!.AbsolutePath.EndsWith("/fail", StringComparison.Ordinal) ? HttpStatusCode.InternalServerError : HttpStatusCode.OK);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new NotSupportedException("Only the synchronous path is expected here.");
    }
}
