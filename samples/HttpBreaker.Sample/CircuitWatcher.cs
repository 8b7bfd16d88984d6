using System.Diagnostics;
using System.Globalization;

namespace HttpBreaker.Sample;

/// <summary>
/// Sends requests through one named client and prints, for each, the outcome, the circuit state after it and
/// the upstream's request count, followed by the events the breaker logged meanwhile.
/// </summary>
internal sealed class CircuitWatcher : IRequestWatcher
{
    private readonly HttpClient _client;
    private readonly Uri _target;
    private readonly string _clientName;
    private readonly ICircuitBreakerRegistry _registry;
    private readonly TransitionRecorder _recorder;
    private readonly Func<int>? _upstreamRequestCount;
    private readonly Stopwatch _clock = new();
    private readonly List<BreakerEvent> _history = [];
    private int _consecutiveFailures;

    /// <param name="client">The client created by the factory, with the circuit breaker in its handlers.</param>
    /// <param name="target">The URL every request goes to.</param>
    /// <param name="clientName">The name of the client, which is also the name of its circuit.</param>
    /// <param name="registry">The registry that contains the circuit.</param>
    /// <param name="recorder">The logging provider that records the breaker's events.</param>
    /// <param name="upstreamRequestCount">
    /// Reads how many requests the upstream has received, or <see langword="null"/> when the upstream cannot
    /// tell, as with <c>--url</c>.
    /// </param>
    public CircuitWatcher(
        HttpClient client,
        Uri target,
        string clientName,
        ICircuitBreakerRegistry registry,
        TransitionRecorder recorder,
        Func<int>? upstreamRequestCount)
    {
        _client = client;
        _target = target;
        _clientName = clientName;
        _registry = registry;
        _recorder = recorder;
        _upstreamRequestCount = upstreamRequestCount;
        Timeline.Observe(GetSnapshot().State);
    }

    public StateTimeline Timeline { get; } = new();

    /// <summary>Every event the breaker logged during the run, oldest first.</summary>
    public IReadOnlyList<BreakerEvent> History => _history;

    /// <summary>Whether each opening or reopening line also shows the length of the break it started.</summary>
    public bool PrintsBreakDurations { get; init; }

    /// <summary>
    /// The maximum number of failures in a row among the requests that were sent, counting 5xx responses and
    /// exceptions. A request the breaker rejected neither counts nor ends a run.
    /// </summary>
    public int MaxConsecutiveFailures { get; private set; }

    /// <summary>The time since the first request, which every printed line starts with.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    public void PrintHeader()
    {
        Console.WriteLine("Each line: time since the first request, outcome, circuit state after it, and the requests");
        Console.WriteLine(_upstreamRequestCount is null
            ? "the upstream has received so far, shown as - because the sample cannot count them at another URL."
            : "the upstream has received so far.");
        Console.WriteLine();
        Console.WriteLine($"{"time",8}  {"outcome",-38}  {"circuit",-9}  {"received",8}");
    }

    /// <summary>
    /// Formats a duration in seconds with up to three decimals, such as "0.5 s".
    /// </summary>
    public static string FormatSeconds(TimeSpan duration) =>
        duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    public static void PrintPhase(string name, string description)
    {
        Console.WriteLine($"-- {name}: {description}");
    }

    /// <summary>
    /// Sends one GET request and prints its line.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task SendAsync(CancellationToken cancellationToken)
    {
        _clock.Start();
        TimeSpan sentAt = _clock.Elapsed;
        CircuitState before = GetSnapshot().State;

        (string outcome, bool wasSent, bool isFailure) = await SendOnceAsync(cancellationToken);
        CountFailure(wasSent, isFailure);

        CircuitSnapshot after = GetSnapshot();
        IReadOnlyList<BreakerEvent> events = AddBreakDurations(_recorder.TakeRecorded(), after);
        _history.AddRange(events);

        // The probe is the one request an open circuit lets through. By the time it returns the circuit is closed
        // or open again, so a snapshot never shows half-open in a run that sends one request at a time.
        if (before == CircuitState.Open && wasSent)
        {
            Timeline.Observe(CircuitState.HalfOpen);
        }

        foreach (BreakerEvent breakerEvent in events)
        {
            if (breakerEvent.NewState is { } newState)
            {
                Timeline.Observe(newState);
            }
        }

        Timeline.Observe(after.State);

        string time = sentAt.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + "s";
        string received = _upstreamRequestCount?.Invoke().ToString(CultureInfo.InvariantCulture) ?? "-";
        Console.WriteLine($"{time,8}  {outcome,-38}  {StateTimeline.Format(after.State),-9}  {received,8}");
        foreach (BreakerEvent breakerEvent in events)
        {
            Console.WriteLine($"{"",8}  >> {Describe(breakerEvent)}");
        }
    }

    private async Task<(string Outcome, bool WasSent, bool IsFailure)> SendOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await _client.GetAsync(_target, cancellationToken);
            if (CircuitBreakerHandler.IsRejection(response))
            {
                return ("503 short-circuited", false, false);
            }

            return ($"{(int)response.StatusCode} {response.StatusCode}", true, (int)response.StatusCode >= 500);
        }
        catch (HttpRequestException exception)
        {
            return ($"{nameof(HttpRequestException)} ({exception.HttpRequestError})", true, true);
        }
        catch (TaskCanceledException exception) when (exception.InnerException is TimeoutException)
        {
            return ($"{nameof(TaskCanceledException)} (timed out)", true, true);
        }
    }

    /// <summary>
    /// Sets the break on each opening or reopening among <paramref name="events"/>, read from the snapshot taken
    /// after the request. Requests go one at a time, so a request starts at most one break, and the circuit stays
    /// open until the next request even when the break has already passed.
    /// </summary>
    private static IReadOnlyList<BreakerEvent> AddBreakDurations(IReadOnlyList<BreakerEvent> events, CircuitSnapshot after)
    {
        if (after is not { State: CircuitState.Open, OpenedAt: { } openedAt, NextProbeAt: { } nextProbeAt })
        {
            return events;
        }

        TimeSpan breakDuration = nextProbeAt - openedAt;
        return events
            .Select(breakerEvent => breakerEvent.NewState == CircuitState.Open ? breakerEvent with { BreakDuration = breakDuration } : breakerEvent)
            .ToList();
    }

    private string Describe(BreakerEvent breakerEvent)
    {
        if (!PrintsBreakDurations || breakerEvent.BreakDuration is not { } breakDuration)
        {
            return breakerEvent.Description;
        }

        return $"{breakerEvent.Description} (break {FormatSeconds(breakDuration)})";
    }

    private void CountFailure(bool wasSent, bool isFailure)
    {
        if (!wasSent)
        {
            return;
        }

        _consecutiveFailures = isFailure ? _consecutiveFailures + 1 : 0;
        MaxConsecutiveFailures = Math.Max(MaxConsecutiveFailures, _consecutiveFailures);
    }

    private CircuitSnapshot GetSnapshot()
    {
        if (!_registry.TryGetCircuit(_clientName, out CircuitSnapshot? snapshot))
        {
            throw new InvalidOperationException($"Client '{_clientName}' has no circuit. Create the client before watching it.");
        }

        return snapshot;
    }
}
