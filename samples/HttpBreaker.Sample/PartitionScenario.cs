using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HttpBreaker.Sample;

/// <summary>
/// A run with one client partitioned by authority and two upstreams on 127.0.0.1: A stays healthy while B fails and
/// recovers, so only B's circuit opens and A keeps getting requests.
/// </summary>
/// <remarks>
/// It does not implement <see cref="IDemoScenario"/>, because that interface plans phases for one upstream and
/// judges one circuit from the breaker's log. This run sends to two upstreams and judges two partition circuits
/// from <see cref="ICircuitBreakerRegistry.StateChanged"/>.
/// </remarks>
internal sealed class PartitionScenario
{
    public const string ClientName = "upstreams";

    // A change can still be queued in the registry when the last request returns. In the sample's runs each change
    // arrived within a few milliseconds, so two seconds only guard against a stalled handler task.
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(2);

    // Without a limit, a loopback server that stops responding would hold the run for the default 100 s.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly int _failureThreshold;
    private readonly TimeSpan _breakDuration;

    public PartitionScenario(int failureThreshold, TimeSpan breakDuration)
    {
        _failureThreshold = failureThreshold;
        _breakDuration = breakDuration;
    }

    /// <summary>The time between two requests. Requests alternate between A and B, so each gets one every two intervals.</summary>
    public TimeSpan RequestInterval { get; } = TimeSpan.FromMilliseconds(100);

    public string BreakerSettings => string.Create(
        CultureInfo.InvariantCulture,
        $"PartitionBy Authority, FailureThreshold {_failureThreshold}, BreakDuration {_breakDuration.TotalSeconds} s");

    public void ConfigureBreaker(CircuitBreakerOptions breaker)
    {
        breaker.PartitionBy = PartitionBy.Authority;
        breaker.FailureThreshold = _failureThreshold;
        breaker.BreakDuration = _breakDuration;
    }

    // A turn is the time between two requests to the same upstream. B's circuit opens within FailureThreshold turns
    // of the start of the failing phase, and its first probe comes at most one turn after the break ends. One more
    // turn absorbs timer jitter, so that probe still meets the failing upstream. The recovered phase outlasts the
    // reopened break in the same way, then shows both circuits closed for about two seconds.
    public IReadOnlyList<DemoPhase> PlanPhases(FlakyUpstream failing)
    {
        TimeSpan turn = 2 * RequestInterval;
        return
        [
            new("healthy", "A and B return 200 OK", 5 * turn,
                _ => RespondWith(failing, StatusCodes.Status200OK)),
            new("B failing", "B returns 500 Internal Server Error until its first probe has failed, while A still returns 200 OK",
                ((_failureThreshold + 2) * turn) + _breakDuration,
                _ => RespondWith(failing, StatusCodes.Status500InternalServerError)),
            new("B recovered", "B returns 200 OK again, so its next probe closes its circuit",
                _breakDuration + (10 * turn),
                _ => RespondWith(failing, StatusCodes.Status200OK)),
        ];
    }

    /// <summary>
    /// Starts both upstreams, plays the phases and prints the circuits and the verdict.
    /// </summary>
    /// <returns>The exit code: 0 when every condition of <see cref="PartitionVerdict"/> held, 1 when one did not, 2 for invalid options.</returns>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddHttpClient(ClientName, client => client.Timeout = RequestTimeout)
            .AddCircuitBreaker(ConfigureBreaker);

        await using ServiceProvider provider = services.BuildServiceProvider();
        using HttpClient? client = SampleClient.TryCreate(provider, ClientName);
        if (client is null)
        {
            return 2;
        }

        await using FlakyUpstream healthyUpstream = await FlakyUpstream.StartAsync(cancellationToken);
        await using FlakyUpstream failingUpstream = await FlakyUpstream.StartAsync(cancellationToken);
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
        var watcher = new PartitionWatcher(client, ClientName, registry, new("A", healthyUpstream), new("B", failingUpstream));
        using var monitor = new StateChangeMonitor(registry, watcher.StartedAt);
        IReadOnlyList<DemoPhase> phases = PlanPhases(failingUpstream);

        PrintIntroduction(watcher, phases);
        try
        {
            await PhaseRunner.RunAsync(phases, RequestInterval, watcher, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine("Stopped by Ctrl+C.");
        }

        if (!await monitor.WaitForStatesAsync(registry.GetCircuits(), DeliveryTimeout))
        {
            Console.Error.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"error: StateChanged had not reported every state change after {DeliveryTimeout.TotalSeconds} s, so the verdict misses some."));
        }

        Console.WriteLine();
        PrintCircuits(registry.GetCircuits());
        return new PartitionVerdict(ClientName, watcher, monitor.Changes).Report() ? 0 : 1;
    }

    private void PrintIntroduction(PartitionWatcher watcher, IReadOnlyList<DemoPhase> phases)
    {
        TimeSpan runDuration = phases.Aggregate(TimeSpan.Zero, (total, phase) => total + phase.Duration);

        Console.WriteLine($"Client '{ClientName}': {BreakerSettings}.");
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"One GET every {RequestInterval.TotalMilliseconds} ms for {runDuration.TotalSeconds} s, to A and B in turn:"));
        foreach (PartitionTarget target in new[] { watcher.Healthy, watcher.Failing })
        {
            Console.WriteLine($"  {target.Label}  {target.Address}  circuit {ClientName}/{target.PartitionKey}");
        }

        watcher.PrintHeader();
    }

    private static void PrintCircuits(IReadOnlyList<CircuitSnapshot> circuits)
    {
        int nameWidth = circuits.Select(circuit => circuit.Name.Length).Append("name".Length).Max();

        Console.WriteLine("Circuits from GetCircuits():");
        Console.WriteLine($"  {"name".PadRight(nameWidth)}  {"state",-9}  consecutive failures");
        foreach (CircuitSnapshot circuit in circuits)
        {
            Console.WriteLine($"  {circuit.Name.PadRight(nameWidth)}  {StateTimeline.Format(circuit.State),-9}  {circuit.ConsecutiveFailures,20}");
        }

        Console.WriteLine($"'{ClientName}' is the client's own circuit, for requests without an absolute URI. This run sends none.");
    }

    private static Task RespondWith(FlakyUpstream upstream, int statusCode)
    {
        upstream.RespondWith(statusCode);
        return Task.CompletedTask;
    }
}
