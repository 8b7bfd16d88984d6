using System.Net;
using HttpBreaker.Redis.Tests.Support;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace HttpBreaker.Redis.Tests;

/// <summary>
/// Starts a Redis server and a Kestrel upstream of the test's own on 127.0.0.1, and a fleet of instances against
/// them, each with a fake clock skewed from the others on purpose.
/// </summary>
public abstract class FleetTestBase
{
    protected const int FailureThreshold = 2;

    /// <summary>The clock skews of the instances: minutes, hours and a day apart, ahead and behind.</summary>
    private static readonly TimeSpan[] ClockSkews =
    [
        TimeSpan.Zero, TimeSpan.FromMinutes(7), TimeSpan.FromHours(-3), TimeSpan.FromDays(1), TimeSpan.FromSeconds(-17), TimeSpan.FromHours(5),
    ];

    private readonly List<FleetInstance> _instances = [];

    protected static TimeSpan RefreshInterval { get; } = TimeSpan.FromSeconds(1);

    private protected RedisServer Redis { get; private set; } = null!;

    private protected LoopbackUpstream Upstream { get; private set; } = null!;

    protected ConnectionMultiplexer Inspector { get; private set; } = null!;

    [SetUp]
    public async Task StartServersAsync()
    {
        Redis = await RedisServer.StartAsync();
        Upstream = await LoopbackUpstream.StartAsync();
        Inspector = await ConnectionMultiplexer.ConnectAsync($"{Redis.Configuration},abortConnect=false");
    }

    [TearDown]
    public async Task StopServersAsync()
    {
        foreach (FleetInstance instance in _instances)
        {
            await instance.DisposeAsync();
        }

        _instances.Clear();
        if (Inspector is not null)
        {
            await Inspector.DisposeAsync();
        }

        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
    }

    /// <summary>
    /// Starts <paramref name="count"/> instances that share the client's circuit, and waits until each has subscribed
    /// to changes, so that none misses the first one.
    /// </summary>
    private protected async Task<FleetInstance[]> StartFleetAsync(int count, int quorum = 1, TimeSpan? breakDuration = null, TimeSpan? probeTimeout = null)
    {
        int before = _instances.Count;
        for (int i = 0; i < count; i++)
        {
            StartInstance(quorum, breakDuration, probeTimeout);
        }

        await WaitForSubscribersAsync(before + count);
        return [.. _instances.Skip(before)];
    }

    private protected FleetInstance StartInstance(int quorum = 1, TimeSpan? breakDuration = null, TimeSpan? probeTimeout = null)
    {
        int index = _instances.Count;
        FleetInstance instance = FleetInstance.Start(index, ClockSkews[index % ClockSkews.Length], Upstream.BaseAddress, client => client
            .AddCircuitBreaker(options =>
            {
                options.FailureThreshold = FailureThreshold;
                options.BreakDuration = breakDuration ?? TimeSpan.FromSeconds(1);
                options.ProbeTimeout = probeTimeout ?? TimeSpan.FromSeconds(5);
            })
            .ShareThroughRedis(options =>
            {
                options.Configuration = Redis.Configuration;
                options.Quorum = quorum;
                options.RefreshInterval = RefreshInterval;
            }));
        _instances.Add(instance);
        return instance;
    }

    private protected void Track(FleetInstance instance) => _instances.Add(instance);

    protected async Task WaitForSubscribersAsync(int count) =>
        await Eventually.HoldsAsync(async () => await CountSubscribersAsync() >= count, $"{count} instances subscribed to circuit changes");

    protected async Task<long> CountSubscribersAsync()
    {
        RedisResult result = await Inspector.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", "httpbreaker:changes");
        return (long)((RedisResult[])result!)[1];
    }

    protected Task<long> CountTripsAsync() =>
        Inspector.GetDatabase().SortedSetLengthAsync($"httpbreaker:{{{FleetInstance.ClientName}}}:trips");

    protected Task<RedisValue> ReadSharedStateAsync() =>
        Inspector.GetDatabase().HashGetAsync($"httpbreaker:{{{FleetInstance.ClientName}}}:state", "s");

    /// <summary>Opens the local circuit of an instance with failures from the upstream, then lets the upstream recover.</summary>
    private protected async Task TripAsync(FleetInstance instance, bool partitioned = false)
    {
        Upstream.Status = HttpStatusCode.InternalServerError;
        for (int i = 0; i < FailureThreshold; i++)
        {
            using HttpResponseMessage failed = await instance.Client.GetAsync("/");
            Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError), "a failure that should reach the caller unchanged");
        }

        Upstream.Status = HttpStatusCode.OK;
        if (!partitioned)
        {
            Assert.That(instance.State, Is.EqualTo(CircuitState.Open), $"instance {instance.Index} right after its own trip");
        }
    }

    /// <summary>
    /// Advances the clocks of <paramref name="instances"/> by <paramref name="step"/> and sends one request through
    /// each, without waiting for it, until the upstream has received <paramref name="count"/> requests in all.
    /// </summary>
    /// <returns>Every request sent, held probes included.</returns>
    private protected async Task<List<Task<HttpResponseMessage>>> DriveUntilReceivedAsync(IEnumerable<FleetInstance> instances, int count, string path, TimeSpan step)
    {
        var sent = new List<Task<HttpResponseMessage>>();
        FleetInstance[] fleet = [.. instances];
        await Eventually.HoldsAsync(
            () => Upstream.Received >= count,
            $"the upstream received {count} requests (it has {Upstream.Received})",
            () =>
            {
                foreach (FleetInstance instance in fleet)
                {
                    instance.Time.Advance(step);
                    sent.Add(instance.Client.GetAsync(path));
                }

                return Task.CompletedTask;
            });
        return sent;
    }
}
