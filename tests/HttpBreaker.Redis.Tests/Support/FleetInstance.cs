using HttpBreaker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace HttpBreaker.Redis.Tests.Support;

/// <summary>
/// One instance of an application in a fleet: a service provider of its own with a fake clock set apart from the
/// others by a skew, a log recorder, and one breaker-protected client shared through Redis.
/// </summary>
internal sealed class FleetInstance : IAsyncDisposable
{
    public const string ClientName = "catalog";

    /// <summary>How long a test waits for background propagation before it fails.</summary>
    public static readonly TimeSpan PropagationDeadline = TimeSpan.FromSeconds(10);

    private FleetInstance(int index, TimeSpan clockSkew, Action<IServiceCollection, IHttpClientBuilder> configure)
    {
        Index = index;
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero) + clockSkew);

        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        configure(services, services.AddHttpClient(ClientName));
        Provider = services.BuildServiceProvider();

        // Creating the client creates its circuit, which starts the instance's subscription and first read.
        Client = Provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
    }

    public int Index { get; }

    public FakeTimeProvider Time { get; }

    public RecordingLoggerProvider Logs { get; } = new();

    public ServiceProvider Provider { get; }

    public HttpClient Client { get; }

    public ICircuitBreakerRegistry Registry => Provider.GetRequiredService<ICircuitBreakerRegistry>();

    public CircuitState State => Registry.TryGetCircuit(ClientName, out CircuitSnapshot? snapshot) ? snapshot.State : CircuitState.Closed;

    public CircuitSnapshot Snapshot =>
        Registry.TryGetCircuit(ClientName, out CircuitSnapshot? snapshot) ? snapshot : throw new InvalidOperationException("The client has no circuit yet.");

    /// <summary>Starts an instance whose client sends to <paramref name="upstream"/>; <paramref name="configure"/> adds the breaker and the fleet.</summary>
    public static FleetInstance Start(int index, TimeSpan clockSkew, Uri upstream, Action<IHttpClientBuilder> configure) =>
        new(index, clockSkew, (_, client) => configure(client.ConfigureHttpClient(http => http.BaseAddress = upstream)));

    public static FleetInstance Start(int index, TimeSpan clockSkew, Action<IServiceCollection, IHttpClientBuilder> configure) =>
        new(index, clockSkew, configure);

    /// <summary>Counts the entries of the Redis fleet's log category with <paramref name="eventId"/>.</summary>
    public int CountLogs(int eventId) => Logs.Entries.Count(entry => entry.Category == "HttpBreaker.Redis" && entry.EventId == eventId);

    /// <summary>
    /// Completes once the circuit is in <paramref name="expected"/>, woken by the registry's StateChanged event, and
    /// fails the test after <see cref="PropagationDeadline"/>.
    /// </summary>
    public async Task WaitForStateAsync(CircuitState expected, string because)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, CircuitStateChangedEventArgs change)
        {
            if (State == expected)
            {
                reached.TrySetResult();
            }
        }

        Registry.StateChanged += OnChanged;
        try
        {
            if (State == expected)
            {
                return;
            }

            await reached.Task.WaitAsync(PropagationDeadline);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Instance {Index} was still {State} instead of {expected} after {PropagationDeadline.TotalSeconds} s: {because}");
        }
        finally
        {
            Registry.StateChanged -= OnChanged;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Provider.DisposeAsync();
    }
}
