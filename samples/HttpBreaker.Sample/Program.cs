using System.Globalization;
using HttpBreaker;
using HttpBreaker.Sample;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

const string ClientName = "upstream";

// Without a limit, a --url endpoint that never responds would hold the run for the default 100 s.
// NOTE: the breaker counts a client timeout as a cancellation, not a failure, so an endpoint that only times
// out never opens the circuit.
TimeSpan requestTimeout = TimeSpan.FromSeconds(5);

if (!SampleOptions.TryParse(args, out SampleOptions? options, out string? error))
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine();
    Console.Error.WriteLine(SampleOptions.Usage);
    return 2;
}

if (options.ShowHelp)
{
    Console.WriteLine(SampleOptions.Usage);
    return 0;
}

using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopping.Cancel();
};

// Two upstreams and a circuit per authority do not fit the single-upstream flow below, so this scenario runs its own.
if (options.Scenario == ScenarioKind.Partitions)
{
    return await new PartitionScenario(options.FailureThreshold, options.BreakDuration).RunAsync(stopping.Token);
}

IDemoScenario scenario = options.Scenario switch
{
    ScenarioKind.Ratio => new RatioScenario(options.BreakDuration),
    ScenarioKind.Backoff => new BackoffScenario(options.FailureThreshold, options.BreakDuration),
    _ => new ConsecutiveScenario(options.FailureThreshold, options.BreakDuration),
};
TimeSpan requestInterval = scenario.RequestInterval;

// The recorder is the only logging provider, so no log line reaches the console except the events the sample
// prints itself. It needs Debug, the level of the message for a request that the breaker's Timeout cancelled.
var recorder = new TransitionRecorder();
var services = new ServiceCollection();
services.AddLogging(logging => logging
    .AddProvider(recorder)
    .AddFilter<TransitionRecorder>(TransitionRecorder.Category, LogLevel.Debug));
services.AddHttpClient(ClientName, client => client.Timeout = requestTimeout)
    .AddCircuitBreaker(scenario.ConfigureBreaker);

await using ServiceProvider provider = services.BuildServiceProvider();
using HttpClient? client = SampleClient.TryCreate(provider, ClientName);
if (client is null)
{
    return 2;
}

await using FlakyUpstream? upstream = options.Url is null ? await FlakyUpstream.StartAsync(stopping.Token) : null;
Uri target = options.Url ?? upstream!.Address;
var watcher = new CircuitWatcher(
    client,
    target,
    ClientName,
    provider.GetRequiredService<ICircuitBreakerRegistry>(),
    recorder,
    upstream is null ? null : () => upstream.RequestCount)
{
    PrintsBreakDurations = scenario.PrintsBreakDurations,
};

IReadOnlyList<DemoPhase> phases = upstream is null
    ? [new("watch", $"GET {target}", options.WatchDuration, _ => Task.CompletedTask)]
    : scenario.PlanPhases(upstream);
TimeSpan runDuration = phases.Aggregate(TimeSpan.Zero, (total, phase) => total + phase.Duration);

Console.WriteLine($"Client '{ClientName}': {scenario.BreakerSettings}.");
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"One GET {target} every {requestInterval.TotalMilliseconds} ms for {runDuration.TotalSeconds} s."));
watcher.PrintHeader();

try
{
    await PhaseRunner.RunAsync(phases, requestInterval, watcher, stopping.Token);
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    Console.WriteLine("Stopped by Ctrl+C.");
}
catch (IOException exception) when (upstream is not null)
{
    Console.Error.WriteLine($"error: the upstream could not listen on port {upstream.Port} again: {exception.Message}");
}

Console.WriteLine();
Console.WriteLine($"States seen: {watcher.Timeline}");
return scenario.ReportResult(watcher) ? 0 : 1;
