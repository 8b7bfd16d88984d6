using System.Net;
using System.Threading.Channels;
using HttpBreaker.Tests.Support;

namespace HttpBreaker.Tests;

public class StateChangedTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    [Test]
    public async Task FullCycle_ReportsEachTransitionWithReason()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(services.Registry);

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(BreakDuration);
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(BreakDuration);
        await services.SendAsync(HttpStatusCode.OK, 1);
        services.Registry.Isolate(BreakerServices.ClientName);
        services.Registry.Reset(BreakerServices.ClientName);

        CircuitStateChangedEventArgs[] received = await TakeAsync(changes, 7);
        Assert.That(received.Select(c => (c.From, c.To, c.Reason)), Is.EqualTo(new[]
        {
            (CircuitState.Closed, CircuitState.Open, CircuitTransitionReason.FailureThreshold),
            (CircuitState.Open, CircuitState.HalfOpen, CircuitTransitionReason.BreakElapsed),
            (CircuitState.HalfOpen, CircuitState.Open, CircuitTransitionReason.ProbeFailed),
            (CircuitState.Open, CircuitState.HalfOpen, CircuitTransitionReason.BreakElapsed),
            (CircuitState.HalfOpen, CircuitState.Closed, CircuitTransitionReason.ProbeSucceeded),
            (CircuitState.Closed, CircuitState.Isolated, CircuitTransitionReason.Manual),
            (CircuitState.Isolated, CircuitState.Closed, CircuitTransitionReason.Manual),
        }));
        Assert.That(received.Select(c => c.CircuitName), Is.All.EqualTo("github"));
        Assert.That(received[0].Timestamp, Is.EqualTo(services.Time.GetUtcNow() - (2 * BreakDuration)));
    }

    [Test]
    public async Task Ratio_ReportsFailureRatioReason()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.FailureThreshold = 0;
            o.FailureRatio = 0.5;
            o.MinimumThroughput = 2;
        });
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(services.Registry);

        await services.SendAsync(HttpStatusCode.InternalServerError, 2);

        CircuitStateChangedEventArgs change = (await TakeAsync(changes, 1))[0];
        Assert.That(change.Reason, Is.EqualTo(CircuitTransitionReason.FailureRatio));
    }

    [Test]
    public async Task ThrowingSubscriber_NeitherBreaksRequestsNorStopsDelivery()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        services.Registry.StateChanged += (_, _) => throw new InvalidOperationException("subscriber bug");
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(services.Registry);
        using HttpClient client = services.CreateClient();
        services.Status = HttpStatusCode.InternalServerError;

        using HttpResponseMessage failed = await client.GetAsync(BreakerServices.Url);
        services.Time.Advance(BreakDuration);
        services.Status = HttpStatusCode.OK;
        using HttpResponseMessage probe = await client.GetAsync(BreakerServices.Url);

        Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await TakeAsync(changes, 3), Has.Length.EqualTo(3));

        // Handlers run in subscription order and a failure is logged before the next handler runs, so all three
        // failures are logged once the later subscriber has the third change.
        Assert.That(services.Logs.Entries.Count(e => e.EventId == 13), Is.EqualTo(3));
    }

    [Test]
    public async Task BlockingSubscriber_DoesNotDelayRequests()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        using var release = new ManualResetEventSlim();
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        services.Registry.StateChanged += (_, _) =>
        {
            release.Wait();
            delivered.TrySetResult();
        };

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        await services.SendAsync(HttpStatusCode.OK, 3);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open), "requests completed while the subscriber blocked");
        Assert.That(delivered.Task.IsCompleted, Is.False);

        release.Set();
        await delivered.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Test]
    public async Task Eviction_ReportedWithPartition()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.PartitionKey = request => request.RequestUri!.Host;
            o.MaxPartitions = 1;
        });
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(services.Registry);
        using HttpClient client = services.CreateClient();

        using (HttpResponseMessage first = await client.GetAsync("http://one.test/"))
        {
        }

        using (HttpResponseMessage second = await client.GetAsync("http://two.test/"))
        {
        }

        CircuitStateChangedEventArgs evicted = (await TakeAsync(changes, 1))[0];
        Assert.That(evicted.Reason, Is.EqualTo(CircuitTransitionReason.Evicted));
        Assert.That(evicted.CircuitName, Is.EqualTo("github/one.test"));
        Assert.That(evicted.ClientName, Is.EqualTo("github"));
        Assert.That(evicted.PartitionKey, Is.EqualTo("one.test"));
        Assert.That(evicted.From, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public async Task Unsubscribe_StopsDelivery()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        int calls = 0;
        void Handler(object? sender, CircuitStateChangedEventArgs change) => Interlocked.Increment(ref calls);
        services.Registry.StateChanged += Handler;
        Channel<CircuitStateChangedEventArgs> changes = Subscribe(services.Registry);

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        await TakeAsync(changes, 1);
        services.Registry.StateChanged -= Handler;
        services.Registry.Reset(BreakerServices.ClientName);
        await TakeAsync(changes, 1);

        Assert.That(Volatile.Read(ref calls), Is.EqualTo(1));
    }

    private static Channel<CircuitStateChangedEventArgs> Subscribe(ICircuitBreakerRegistry registry)
    {
        Channel<CircuitStateChangedEventArgs> changes = Channel.CreateUnbounded<CircuitStateChangedEventArgs>();
        registry.StateChanged += (sender, change) =>
        {
            Assert.That(sender, Is.SameAs(registry));
            changes.Writer.TryWrite(change);
        };
        return changes;
    }

    /// <summary>Reads <paramref name="count"/> changes, failing after ten seconds instead of hanging.</summary>
    private static async Task<CircuitStateChangedEventArgs[]> TakeAsync(Channel<CircuitStateChangedEventArgs> changes, int count)
    {
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var taken = new CircuitStateChangedEventArgs[count];
        for (int i = 0; i < count; i++)
        {
            taken[i] = await changes.Reader.ReadAsync(giveUp.Token);
        }

        return taken;
    }
}
