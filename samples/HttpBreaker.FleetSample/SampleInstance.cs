using System.Net;
using HttpBreaker.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HttpBreaker.FleetSample;

/// <summary>
/// One instance of the application: a service provider of its own with the client <c>upstream</c>, protected by a
/// circuit breaker that is shared with the other instances through Redis.
/// </summary>
internal sealed class SampleInstance : IAsyncDisposable
{
    public const string ClientName = "upstream";

    private readonly ServiceProvider _provider;
    private readonly HttpClient _client;

    public SampleInstance(int number, Uri upstream, Action<RedisFleetOptions> shareOptions, EventHandler<CircuitStateChangedEventArgs> onChanged)
    {
        Number = number;

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.ClearProviders());
        services.AddHttpClient(ClientName, client =>
            {
                client.BaseAddress = upstream;
                client.Timeout = TimeSpan.FromSeconds(5);
            })
            .AddCircuitBreaker(options =>
            {
                options.FailureThreshold = 3;
                options.BreakDuration = TimeSpan.FromSeconds(2);
                options.ProbeTimeout = TimeSpan.FromSeconds(2);
            })
            .ShareThroughRedis(shareOptions);
        _provider = services.BuildServiceProvider();

        Registry = _provider.GetRequiredService<ICircuitBreakerRegistry>();
        Registry.StateChanged += onChanged;
        _client = _provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
    }

    public int Number { get; }

    public ICircuitBreakerRegistry Registry { get; }

    public CircuitState State => Registry.TryGetCircuit(ClientName, out CircuitSnapshot? snapshot) ? snapshot.State : CircuitState.Closed;

    /// <summary>Sends one request and describes its outcome; a synthetic 503 is shown as short-circuited.</summary>
    public async Task<string> SendAsync(CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await _client.GetAsync("/", cancellationToken);
            return CircuitBreakerHandler.IsRejection(response)
                ? "503 short-circuited"
                : $"{(int)response.StatusCode} {response.StatusCode}";
        }
        catch (HttpRequestException exception)
        {
            return $"HttpRequestException ({exception.HttpRequestError})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _provider.DisposeAsync();
    }

    public static string Describe(CircuitState state) => state switch
    {
        CircuitState.HalfOpen => "half-open",
        _ => state.ToString().ToLowerInvariant(),
    };

    public static bool IsSuccess(string outcome) => outcome.StartsWith($"{(int)HttpStatusCode.OK} ", StringComparison.Ordinal);
}
