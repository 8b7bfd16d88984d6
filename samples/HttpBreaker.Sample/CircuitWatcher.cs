using System.Diagnostics;
using System.Globalization;

namespace HttpBreaker.Sample;

/// <summary>
/// Sends requests through one named client and prints, for each, the outcome, the circuit state after it and
/// the upstream's request count, followed by the transitions the breaker logged meanwhile.
/// </summary>
internal sealed class CircuitWatcher
{
    private readonly HttpClient _client;
    private readonly Uri _target;
    private readonly string _clientName;
    private readonly ICircuitBreakerRegistry _registry;
    private readonly TransitionRecorder _recorder;
    private readonly Func<int>? _upstreamRequestCount;
    private readonly Stopwatch _clock = new();

    /// <param name="client">The client created by the factory, with the circuit breaker in its handlers.</param>
    /// <param name="target">The URL every request goes to.</param>
    /// <param name="clientName">The name of the client, which is also the name of its circuit.</param>
    /// <param name="registry">The registry that contains the circuit.</param>
    /// <param name="recorder">The logging provider that records the breaker's transitions.</param>
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
        Timeline.Observe(GetState());
    }

    public StateTimeline Timeline { get; } = new();

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
        CircuitState before = GetState();

        (string outcome, bool wasSent) = await SendOnceAsync(cancellationToken);

        CircuitState after = GetState();
        IReadOnlyList<CircuitTransition> transitions = _recorder.TakeRecorded();

        // The probe is the one request an open circuit lets through. By the time it returns the circuit is closed
        // or open again, so a snapshot never shows half-open in a run that sends one request at a time.
        if (before == CircuitState.Open && wasSent)
        {
            Timeline.Observe(CircuitState.HalfOpen);
        }

        foreach (CircuitTransition transition in transitions)
        {
            Timeline.Observe(transition.State);
        }

        Timeline.Observe(after);

        string time = sentAt.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + "s";
        string received = _upstreamRequestCount?.Invoke().ToString(CultureInfo.InvariantCulture) ?? "-";
        Console.WriteLine($"{time,8}  {outcome,-38}  {StateTimeline.Format(after),-9}  {received,8}");
        foreach (CircuitTransition transition in transitions)
        {
            Console.WriteLine($"{"",8}  >> {transition.Description}");
        }
    }

    private async Task<(string Outcome, bool WasSent)> SendOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await _client.GetAsync(_target, cancellationToken);
            if (CircuitBreakerHandler.IsRejection(response))
            {
                return ("503 short-circuited", false);
            }

            return ($"{(int)response.StatusCode} {response.StatusCode}", true);
        }
        catch (HttpRequestException exception)
        {
            return ($"{nameof(HttpRequestException)} ({exception.HttpRequestError})", true);
        }
        catch (TaskCanceledException exception) when (exception.InnerException is TimeoutException)
        {
            return ($"{nameof(TaskCanceledException)} (timed out)", true);
        }
    }

    private CircuitState GetState()
    {
        if (!_registry.TryGetCircuit(_clientName, out CircuitSnapshot? snapshot))
        {
            throw new InvalidOperationException($"Client '{_clientName}' has no circuit. Create the client before watching it.");
        }

        return snapshot.State;
    }
}
