using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests.Support;

/// <summary>
/// A service provider with one breaker-protected client whose primary handler is MockHttp, a fake clock and a
/// log recorder. The upstream's status is switched with <see cref="Upstream"/>.
/// </summary>
internal sealed class BreakerServices : IDisposable
{
    public const string ClientName = "github";
    public const string Url = "http://upstream.test/repos";

    private BreakerServices(Action<CircuitBreakerOptions>? configure, HttpMessageHandler? primaryHandler)
    {
        Upstream = Mock.When("*").Respond(_ => new HttpResponseMessage(Status));

        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));

        IHttpClientBuilder client = services.AddHttpClient(ClientName).ConfigurePrimaryHttpMessageHandler(() => primaryHandler ?? Mock);
        if (configure is null)
        {
            client.AddCircuitBreaker();
        }
        else
        {
            client.AddCircuitBreaker(configure);
        }

        Provider = services.BuildServiceProvider();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public MockHttpMessageHandler Mock { get; } = new();

    public MockedRequest Upstream { get; }

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    public RecordingLoggerProvider Logs { get; } = new();

    public ServiceProvider Provider { get; }

    public ICircuitBreakerRegistry Registry => Provider.GetRequiredService<ICircuitBreakerRegistry>();

    public int UpstreamCalls => Mock.GetMatchCount(Upstream);

    public CircuitState State => Snapshot.State;

    public CircuitSnapshot Snapshot =>
        Registry.TryGetCircuit(ClientName, out CircuitSnapshot? snapshot)
            ? snapshot
            : throw new InvalidOperationException($"Client '{ClientName}' has no circuit yet.");

    public static BreakerServices Create(Action<CircuitBreakerOptions>? configure = null, HttpMessageHandler? primaryHandler = null) =>
        new(configure, primaryHandler);

    /// <summary>
    /// Creates the protected client. Its timeout is short so that a regression that leaves a gated request
    /// pending fails the test in seconds. A passing test never waits for it.
    /// </summary>
    public HttpClient CreateClient()
    {
        HttpClient client = Provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
        client.Timeout = TimeSpan.FromSeconds(10);
        return client;
    }

    /// <summary>Sends requests to which the upstream responds with <paramref name="status"/>.</summary>
    public async Task SendAsync(HttpStatusCode status, int count)
    {
        Status = status;
        using HttpClient client = CreateClient();
        for (int i = 0; i < count; i++)
        {
            using HttpResponseMessage response = await client.GetAsync(Url);
        }
    }

    public void Dispose()
    {
        Provider.Dispose();
        Mock.Dispose();
    }
}
