using System.Globalization;
using HttpBreaker;
using HttpBreaker.Sample;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

const string ClientName = "upstream";

// One request per interval in every phase, so that the printed times show when the break ends.
TimeSpan requestInterval = TimeSpan.FromMilliseconds(200);

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

// The recorder is the only logging provider, so no log line reaches the console except the events the sample
// prints itself. It needs Debug, the level of the message for a request that the breaker's Timeout cancelled.
var recorder = new TransitionRecorder();
var services = new ServiceCollection();
services.AddLogging(logging => logging
    .AddProvider(recorder)
    .AddFilter<TransitionRecorder>(TransitionRecorder.Category, LogLevel.Debug));
services.AddHttpClient(ClientName, client => client.Timeout = requestTimeout)
    .AddCircuitBreaker(breaker =>
    {
        breaker.FailureThreshold = options.FailureThreshold;
        breaker.BreakDuration = options.BreakDuration;
    });

await using ServiceProvider provider = services.BuildServiceProvider();
using HttpClient? client = TryCreateClient(provider);
if (client is null)
{
    return 2;
}

using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopping.Cancel();
};

await using FlakyUpstream? upstream = options.Url is null ? await FlakyUpstream.StartAsync(stopping.Token) : null;
Uri target = options.Url ?? upstream!.Address;
var watcher = new CircuitWatcher(
    client,
    target,
    ClientName,
    provider.GetRequiredService<ICircuitBreakerRegistry>(),
    recorder,
    upstream is null ? null : () => upstream.RequestCount);

DemoPhase[] phases = upstream is null
    ? [new("watch", $"GET {target}", options.WatchDuration, _ => Task.CompletedTask)]
    : PlanPhases(upstream);
TimeSpan runDuration = phases.Aggregate(TimeSpan.Zero, (total, phase) => total + phase.Duration);

Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"Client '{ClientName}': FailureThreshold {options.FailureThreshold}, BreakDuration {options.BreakDuration.TotalSeconds} s."));
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"One GET {target} every {requestInterval.TotalMilliseconds} ms for {runDuration.TotalSeconds} s."));
watcher.PrintHeader();

try
{
    await RunPhasesAsync(phases, stopping.Token);
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    Console.WriteLine("Stopped by Ctrl+C.");
}
catch (IOException exception) when (upstream is not null)
{
    Console.Error.WriteLine($"error: the upstream could not listen on port {upstream.Port} again: {exception.Message}");
}

bool sawCycle = watcher.Timeline.HasFullCycle();
Console.WriteLine();
Console.WriteLine($"States seen: {watcher.Timeline}");
Console.WriteLine(sawCycle
    ? "The circuit went closed -> open -> half-open -> closed."
    : "The circuit did not go closed -> open -> half-open -> closed.");
return sawCycle ? 0 : 1;

// Creating the client creates its circuit, and that is when the library validates the options.
static HttpClient? TryCreateClient(ServiceProvider provider)
{
    try
    {
        return provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
    }
    catch (OptionsValidationException exception)
    {
        foreach (string failure in exception.Failures)
        {
            Console.Error.WriteLine($"error: {failure}");
        }

        Console.Error.WriteLine("Change --threshold or --break to a value in that range. See --help.");
        return null;
    }
}

// Each phase lasts long enough for the circuit to react, whatever the options. The failing phase reaches the
// threshold, and the refused and recovered phases each outlast a full break, so each of them sends a probe.
DemoPhase[] PlanPhases(FlakyUpstream upstream)
{
    return
    [
        new("healthy", "the upstream returns 200 OK", 5 * requestInterval, _ =>
        {
            upstream.IsFailing = false;
            return Task.CompletedTask;
        }),
        new("failing", "the upstream returns 500 Internal Server Error", (options.FailureThreshold + 2) * requestInterval, _ =>
        {
            upstream.IsFailing = true;
            return Task.CompletedTask;
        }),
        new("refused", $"the upstream is stopped, so connections to port {upstream.Port} are refused", options.BreakDuration + (3 * requestInterval), _ =>
            upstream.StopAsync()),
        new("recovered", $"the upstream listens on port {upstream.Port} again and returns 200 OK", options.BreakDuration + (10 * requestInterval), cancellationToken =>
        {
            upstream.IsFailing = false;
            return upstream.RestartAsync(cancellationToken);
        }),
    ];
}

async Task RunPhasesAsync(DemoPhase[] phases, CancellationToken cancellationToken)
{
    using var pacer = new PeriodicTimer(requestInterval);
    TimeSpan phaseEnd = TimeSpan.Zero;

    foreach (DemoPhase phase in phases)
    {
        await phase.EnterAsync(cancellationToken);
        CircuitWatcher.PrintPhase(phase.Name, phase.Description);
        phaseEnd += phase.Duration;

        // Timer ticks land a little before or after each multiple of the interval. Ending the phase half an
        // interval early keeps a tick that comes early from sending one more request than planned.
        while (watcher.Elapsed + (requestInterval / 2) < phaseEnd)
        {
            await watcher.SendAsync(cancellationToken);
            await pacer.WaitForNextTickAsync(cancellationToken);
        }
    }
}
