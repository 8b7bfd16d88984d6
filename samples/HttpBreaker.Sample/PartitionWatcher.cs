using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace HttpBreaker.Sample;

/// <summary>
/// A watcher that sends requests through a client partitioned by authority, to a healthy and a failing upstream in
/// turn, and prints for each the outcome, the state of that upstream's partition circuit and both request counts.
/// </summary>
internal sealed class PartitionWatcher : IRequestWatcher
{
    private readonly HttpClient _client;
    private readonly string _clientName;
    private readonly ICircuitBreakerRegistry _registry;
    private readonly Stopwatch _clock;
    private int _sentCount;

    /// <param name="client">The client created by the factory, partitioned by authority.</param>
    /// <param name="clientName">The name of the client, the first part of each partition circuit's name.</param>
    /// <param name="registry">The registry that contains the partition circuits.</param>
    /// <param name="healthy">The upstream that returns 200 OK throughout, which gets the first request.</param>
    /// <param name="failing">The upstream whose failures open its own circuit.</param>
    public PartitionWatcher(HttpClient client, string clientName, ICircuitBreakerRegistry registry, PartitionTarget healthy, PartitionTarget failing)
    {
        _client = client;
        _clientName = clientName;
        _registry = registry;
        Healthy = healthy;
        Failing = failing;
        StartedAt = TimeProvider.System.GetUtcNow();
        _clock = Stopwatch.StartNew();
    }

    public PartitionTarget Healthy { get; }

    public PartitionTarget Failing { get; }

    /// <summary>The wall-clock time at which <see cref="Elapsed"/> was zero, to print StateChanged times on the same scale.</summary>
    public DateTimeOffset StartedAt { get; }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The requests sent to the healthy upstream.</summary>
    public int HealthySent { get; private set; }

    /// <summary>The requests to the healthy upstream that returned 200 OK.</summary>
    public int HealthyOk { get; private set; }

    /// <summary>The requests to the healthy upstream after which its circuit was not closed, or had no circuit.</summary>
    public int HealthyNotClosed { get; private set; }

    /// <summary>The requests sent to the healthy upstream while the failing upstream's circuit was open.</summary>
    public int HealthySentWhileFailingOpen { get; private set; }

    /// <summary>The requests of <see cref="HealthySentWhileFailingOpen"/> that reached the healthy upstream.</summary>
    public int HealthyReceivedWhileFailingOpen { get; private set; }

    /// <summary>
    /// Formats a time since the start of the run in seconds with three decimals, such as "1.503s".
    /// </summary>
    public static string FormatTime(TimeSpan time) =>
        time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + "s";

    public void PrintHeader()
    {
        Console.WriteLine("Each line: time since the start, the upstream the request went to, the outcome, the state of that");
        Console.WriteLine("upstream's partition circuit after it, and the requests each upstream has received so far.");
        Console.WriteLine(">> lines come from StateChanged, whose handlers run on a background task, so one can print just");
        Console.WriteLine("before the line of the request that caused it.");
        Console.WriteLine();
        Console.WriteLine($"{"time",8}  {"upstream",-8}  {"outcome",-25}  {"circuit",-9}  {Healthy.Label + " received",10}  {Failing.Label + " received",10}");
    }

    public async Task SendAsync(CancellationToken cancellationToken)
    {
        PartitionTarget target = _sentCount % 2 == 0 ? Healthy : Failing;
        _sentCount++;

        TimeSpan sentAt = Elapsed;
        bool failingWasOpen = GetState(Failing) == CircuitState.Open;
        int receivedBefore = target.Upstream.RequestCount;

        (string outcome, HttpStatusCode? upstreamStatus) = await SendOnceAsync(target.Address, cancellationToken);

        bool wasReceived = target.Upstream.RequestCount > receivedBefore;
        CircuitState? state = GetState(target);
        if (ReferenceEquals(target, Healthy))
        {
            CountHealthy(upstreamStatus, wasReceived, state, failingWasOpen);
        }

        string stateText = state is { } known ? StateTimeline.Format(known) : "none";
        string healthyReceived = Healthy.Upstream.RequestCount.ToString(CultureInfo.InvariantCulture);
        string failingReceived = Failing.Upstream.RequestCount.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine($"{FormatTime(sentAt),8}  {target.Label,-8}  {outcome,-25}  {stateText,-9}  {healthyReceived,10}  {failingReceived,10}");
    }

    /// <returns>
    /// The outcome to print, and the upstream's status code, or <see langword="null"/> when the breaker rejected the
    /// request or it failed without a response.
    /// </returns>
    private async Task<(string Outcome, HttpStatusCode? UpstreamStatus)> SendOnceAsync(Uri address, CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await _client.GetAsync(address, cancellationToken);
            if (CircuitBreakerHandler.IsRejection(response))
            {
                return ("503 short-circuited", null);
            }

            return ($"{(int)response.StatusCode} {response.StatusCode}", response.StatusCode);
        }
        catch (HttpRequestException exception)
        {
            return ($"{nameof(HttpRequestException)} ({exception.HttpRequestError})", null);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ($"{nameof(TaskCanceledException)} (timed out)", null);
        }
    }

    private void CountHealthy(HttpStatusCode? upstreamStatus, bool wasReceived, CircuitState? state, bool failingWasOpen)
    {
        HealthySent++;
        HealthyOk += upstreamStatus == HttpStatusCode.OK ? 1 : 0;
        HealthyNotClosed += state == CircuitState.Closed ? 0 : 1;

        if (failingWasOpen)
        {
            HealthySentWhileFailingOpen++;
            HealthyReceivedWhileFailingOpen += wasReceived ? 1 : 0;
        }
    }

    /// <summary>
    /// Returns the state of an upstream's partition circuit, or <see langword="null"/> when the registry has none,
    /// as before the upstream's first request.
    /// </summary>
    private CircuitState? GetState(PartitionTarget target) =>
        _registry.TryGetCircuit(_clientName, target.PartitionKey, out CircuitSnapshot? snapshot) ? snapshot.State : null;
}
