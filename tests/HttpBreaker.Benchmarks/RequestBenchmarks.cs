using BenchmarkDotNet.Attributes;
using HttpBreaker.FleetSample;
using Polly.CircuitBreaker;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// Per-request cost of each scenario through a real <see cref="IHttpClientFactory"/> client, against the bare
/// pipeline as the baseline, with 1, 2 and 8 callers sharing one client.
/// </summary>
/// <remarks>
/// Every invocation sends <see cref="RequestsPerInvoke"/> requests, split evenly between the callers, over the
/// same <see cref="HostCount"/> hosts in turn, so scenarios differ only in the handlers they add.
/// </remarks>
[MemoryDiagnoser]
public class RequestBenchmarks : IDisposable
{
    /// <summary>Requests in one invocation; a multiple of every caller count.</summary>
    public const int RequestsPerInvoke = 1024;

    /// <summary>Distinct hosts the requests go to, one partition circuit each in the partitioned scenario.</summary>
    public const int HostCount = 1000;

    private static readonly Func<HttpClient, Uri, Task> s_send = SendAsync;
    private static readonly Func<HttpClient, Uri, Task> s_sendCatchingBrokenCircuit = SendCatchingBrokenCircuitAsync;

    private readonly Uri[] _hosts = CreateHosts();
    private BenchmarkClients? _clients;
    private BreakerMeterListener? _listener;
    private LocalRedis? _redis;
    private readonly Dictionary<string, HttpClient> _clientsByName = new(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets the number of callers that share the client. One caller runs on the benchmark thread, and more
    /// callers each run on a thread-pool task.
    /// </summary>
    [Params(1, 2, 8)]
    public int Callers { get; set; }

    /// <summary>Builds the clients and opens the circuits that the open scenarios need.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _clients = new BenchmarkClients();
        _clients.PrepareAsync(_hosts).GetAwaiter().GetResult();
    }

    /// <summary>Starts a listener on the breaker's meter before the breaker client is created.</summary>
    [GlobalSetup(Target = nameof(BreakerClosedWithTelemetry))]
    public void SetupTelemetry()
    {
        _listener = new BreakerMeterListener();
        Setup();

        // One request on this thread shows what the run measures: before the breaker publishes metrics, nothing.
        long before = BreakerMeterListener.MeasurementsOnThisThread;
        SendAsync(GetClient(BenchmarkClients.Breaker), _hosts[0]).GetAwaiter().GetResult();
        long perRequest = BreakerMeterListener.MeasurementsOnThisThread - before;
        Console.WriteLine($"// Meter '{BreakerMeterListener.MeterName}': {_listener.InstrumentCount} instruments enabled, {perRequest} measurements per closed request.");
    }

    /// <summary>Starts a redis-server of the run's own and builds the clients, the fleet ones included.</summary>
    [GlobalSetup(Targets = [nameof(FleetClosed), nameof(FleetOpen)])]
    public void SetupFleet()
    {
        string binary = LocalRedis.FindBinary() ?? throw new InvalidOperationException(
            "The fleet scenarios need redis-server, which is not installed. Install it with `apt-get install -y redis-server`, " +
            "or leave the fleet scenarios out with --filter.");
        _redis = LocalRedis.StartAsync(binary, CancellationToken.None).GetAwaiter().GetResult();
        _clients = new BenchmarkClients(_redis.Configuration);
        _clients.PrepareAsync(_hosts).GetAwaiter().GetResult();
    }

    /// <summary>Disposes the clients, the listener and the Redis server.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _listener?.Dispose();
        _clients?.Dispose();
        _redis?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _redis = null;
        _clientsByName.Clear();
        _listener = null;
        _clients = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>The factory pipeline and the in-memory handler, with no handler added.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = RequestsPerInvoke)]
    public Task Bare() => RunAsync(BenchmarkClients.Bare, s_send);

    /// <summary>One delegating handler that does nothing.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task PassThrough() => RunAsync(BenchmarkClients.PassThrough, s_send);

    /// <summary>A closed breaker with the consecutive failure rule only.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task BreakerClosed() => RunAsync(BenchmarkClients.Breaker, s_send);

    /// <summary>A closed breaker with the failure ratio rule over a sliding window.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task BreakerClosedRatio() => RunAsync(BenchmarkClients.BreakerRatio, s_send);

    /// <summary>A closed breaker while a listener records every instrument of the <c>HttpBreaker</c> meter.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task BreakerClosedWithTelemetry() => RunAsync(BenchmarkClients.Breaker, s_send);

    /// <summary>An open breaker: every request gets the synthetic 503.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task BreakerOpen() => RunAsync(BenchmarkClients.BreakerOpen, s_send);

    /// <summary>A half-open breaker whose probe is in flight: every request gets the synthetic 503.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task BreakerHalfOpen() => RunAsync(BenchmarkClients.BreakerHalfOpen, s_send);

    /// <summary>A closed breaker with a circuit per authority, over <see cref="HostCount"/> hosts.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task BreakerPartitioned() => RunAsync(BenchmarkClients.BreakerPartitioned, s_send);

    /// <summary>A closed breaker in fleet mode, sharing its circuit through Redis; the request path never calls Redis.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task FleetClosed() => RunAsync(BenchmarkClients.Fleet, s_send);

    /// <summary>An open breaker in fleet mode: every request gets the synthetic 503 without calling Redis.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task FleetOpen() => RunAsync(BenchmarkClients.FleetOpen, s_send);

    /// <summary>Polly v8 through <c>AddResilienceHandler</c> with only a circuit breaker, closed.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task PollyV8Closed() => RunAsync(BenchmarkClients.PollyV8, s_send);

    /// <summary>Polly v8 open: every request throws <c>BrokenCircuitException</c>, which the caller catches.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task PollyV8Open() => RunAsync(BenchmarkClients.PollyV8Open, s_sendCatchingBrokenCircuit);

    /// <summary>Polly v7 <c>CircuitBreakerAsync</c> through <c>AddTransientHttpErrorPolicy</c>, closed.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task PollyV7Closed() => RunAsync(BenchmarkClients.PollyV7, s_send);

    /// <summary>Polly v7 open: every request throws <c>BrokenCircuitException</c>, which the caller catches.</summary>
    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    public Task PollyV7Open() => RunAsync(BenchmarkClients.PollyV7Open, s_sendCatchingBrokenCircuit);

    private static Uri[] CreateHosts()
    {
        var hosts = new Uri[HostCount];
        for (int i = 0; i < hosts.Length; i++)
        {
            hosts[i] = new Uri($"http://host{i:D4}.bench.test/items");
        }

        return hosts;
    }

    private static async Task SendAsync(HttpClient client, Uri uri)
    {
        using HttpResponseMessage response = await client.GetAsync(uri);
    }

    /// <summary>
    /// Sends a request to an open Polly breaker, which throws. Polly v7's exception derives from Polly.Core's, so one
    /// catch serves both versions.
    /// </summary>
    private static async Task SendCatchingBrokenCircuitAsync(HttpClient client, Uri uri)
    {
        try
        {
            using HttpResponseMessage response = await client.GetAsync(uri);
        }
        catch (BrokenCircuitException)
        {
        }
    }

    private static async Task CallAsync(HttpClient client, Func<HttpClient, Uri, Task> send, Uri[] hosts, int first, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await send(client, hosts[(first + i) % hosts.Length]);
        }
    }

    private HttpClient GetClient(string name)
    {
        if (!_clientsByName.TryGetValue(name, out HttpClient? client))
        {
            client = _clients!.Create(name);
            _clientsByName.Add(name, client);
        }

        return client;
    }

    /// <summary>
    /// Sends <see cref="RequestsPerInvoke"/> requests. One caller sends them on the benchmark thread; several callers
    /// each start on a thread-pool task at their own offset in the host list.
    /// </summary>
    private Task RunAsync(string clientName, Func<HttpClient, Uri, Task> send)
    {
        HttpClient client = GetClient(clientName);
        if (Callers == 1)
        {
            return CallAsync(client, send, _hosts, 0, RequestsPerInvoke);
        }

        int perCaller = RequestsPerInvoke / Callers;
        var callers = new Task[Callers];
        for (int caller = 0; caller < callers.Length; caller++)
        {
            int first = caller * (HostCount / Callers);
            callers[caller] = Task.Run(() => CallAsync(client, send, _hosts, first, perCaller));
        }

        return Task.WhenAll(callers);
    }
}
