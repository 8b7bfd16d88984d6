using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HttpBreaker.Redis.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace HttpBreaker.Redis.Tests;

/// <summary>
/// A Redis that accepts connections but does not reply: requests must not wait for it, and neither must disposal.
/// </summary>
/// <remarks>
/// The Redis timeouts are set to a minute, so that a wait for Redis shows as a missed deadline of a few seconds,
/// not as a Redis timeout that ends it.
/// </remarks>
public class SlowRedisTests : FleetTestBase
{
    private const string LongTimeouts = "connectTimeout=60000,asyncTimeout=60000,syncTimeout=60000";

    /// <summary>How long Redis stops replying; every deadline of these tests is well below it.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(8);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(4);

    [Test]
    public async Task PausedRedis_Requests_CompleteWithoutWaiting()
    {
        FleetInstance instance = StartInstance($"{Redis.Configuration},{LongTimeouts}");
        await WaitForSubscribersAsync(1);
        await TripAsync(instance);
        await Eventually.HoldsAsync(async () => (string?)await ReadSharedStateAsync() == "open", "the trip opened the shared circuit");
        await using ConnectionMultiplexer admin = await PauseRedisAsync();

        // The break ends, so the request starts a request for the probe lease, which Redis does not grant while paused.
        instance.Time.Advance(TimeSpan.FromSeconds(2));
        using HttpResponseMessage rejected = await instance.Client.GetAsync("/").WaitAsync(Deadline);
        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True, "the open circuit rejects while the lease request waits");

        instance.Registry.Reset(FleetInstance.ClientName);
        using HttpResponseMessage passed = await instance.Client.GetAsync("/").WaitAsync(Deadline);
        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the reset circuit sends while its reset waits for Redis");
    }

    [Test]
    public async Task PausedRedis_Dispose_DoesNotWaitForTheCommand()
    {
        FleetInstance instance = StartInstance($"{Redis.Configuration},{LongTimeouts}");
        await WaitForSubscribersAsync(1);
        await using ConnectionMultiplexer admin = await PauseRedisAsync();

        // The isolation is sent to Redis at once and waits there for the pause to end.
        instance.Registry.Isolate(FleetInstance.ClientName);

        await AssertDisposesAsync(instance);
    }

    [Test]
    public async Task SilentServer_RequestsAndDispose_DoNotWait()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        Task accepting = AcceptForeverAsync(silent, accepted);
        FleetInstance instance = StartInstance($"127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port},{LongTimeouts}");

        using HttpResponseMessage passed = await instance.Client.GetAsync("/").WaitAsync(Deadline);
        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK), "a closed circuit sends while Redis is connecting");
        await TripAsync(instance);
        instance.Time.Advance(TimeSpan.FromSeconds(2));
        using HttpResponseMessage probe = await instance.Client.GetAsync("/").WaitAsync(Deadline);
        Assert.That(probe.StatusCode, Is.EqualTo(HttpStatusCode.OK), "without Redis the circuit probes on its own");
        Assert.That(instance.State, Is.EqualTo(CircuitState.Closed), "the probe closed the local circuit");

        await AssertDisposesAsync(instance);
        silent.Stop();
        await accepting.ContinueWith(static task => task.Exception, TaskScheduler.Default);
        foreach (Socket socket in accepted)
        {
            socket.Dispose();
        }
    }

    private static async Task AssertDisposesAsync(FleetInstance instance)
    {
        Task disposal = instance.DisposeAsync().AsTask();
        Task first = await Task.WhenAny(disposal, Task.Delay(Deadline));
        Assert.That(first, Is.SameAs(disposal), $"the service provider was still disposing after {Deadline.TotalSeconds} s, waiting for Redis");
        await disposal;
    }

    private static async Task AcceptForeverAsync(TcpListener listener, List<Socket> accepted)
    {
        while (true)
        {
            Socket socket = await listener.AcceptSocketAsync();
            lock (accepted)
            {
                accepted.Add(socket);
            }
        }
    }

    /// <summary>
    /// Stops Redis from running any client's command for <see cref="Pause"/>, as a stalled server would. The caller
    /// disposes the returned admin connection after its checks, since closing it waits for the pause to end.
    /// </summary>
    private async Task<ConnectionMultiplexer> PauseRedisAsync()
    {
        // CLIENT is an admin command for StackExchange.Redis, which the inspecting connection does not allow.
        ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync($"{Redis.Configuration},allowAdmin=true");
        string milliseconds = ((long)Pause.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", milliseconds, "ALL");
        return admin;
    }

    private FleetInstance StartInstance(string configuration)
    {
        FleetInstance instance = FleetInstance.Start(0, TimeSpan.Zero, Upstream.BaseAddress, client => client
            .AddCircuitBreaker(options =>
            {
                options.FailureThreshold = FailureThreshold;
                options.BreakDuration = TimeSpan.FromSeconds(1);
            })
            .ShareThroughRedis(options =>
            {
                options.Configuration = configuration;
                options.RefreshInterval = RefreshInterval;
            }));
        Track(instance);
        return instance;
    }
}
