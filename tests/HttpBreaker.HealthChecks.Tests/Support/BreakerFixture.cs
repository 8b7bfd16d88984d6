using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace HttpBreaker.HealthChecks.Tests.Support;

/// <summary>
/// A service provider with three breaker-protected clients on a MockHttp upstream and a fake clock: <c>github</c>
/// and <c>payments</c> with one circuit each, and <c>webhooks</c> with a circuit per authority. Every breaker opens
/// after <see cref="FailureThreshold"/> failures for <see cref="BreakDuration"/>. The upstream responds 500 to hosts
/// listed in <see cref="FailingHosts"/> and 200 to the rest.
/// </summary>
internal sealed class BreakerFixture : IDisposable
{
    public const int FailureThreshold = 2;
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    private TaskCompletionSource? _gate;

    private BreakerFixture(Action<IHealthChecksBuilder> addChecks)
    {
        Mock.When("*").Respond(RespondAsync);

        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Time);
        foreach (string client in new[] { "github", "payments" })
        {
            services.AddHttpClient(client)
                .ConfigurePrimaryHttpMessageHandler(() => Mock)
                .AddCircuitBreaker(o => { o.FailureThreshold = FailureThreshold; o.BreakDuration = BreakDuration; });
        }

        services.AddHttpClient("webhooks")
            .ConfigurePrimaryHttpMessageHandler(() => Mock)
            .AddCircuitBreaker(o =>
            {
                o.FailureThreshold = FailureThreshold;
                o.BreakDuration = BreakDuration;
                o.PartitionBy = PartitionBy.Authority;
            });

        addChecks(services.AddHealthChecks());
        Provider = services.BuildServiceProvider();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    public MockHttpMessageHandler Mock { get; } = new();

    public HashSet<string> FailingHosts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ServiceProvider Provider { get; }

    public ICircuitBreakerRegistry Registry => Provider.GetRequiredService<ICircuitBreakerRegistry>();

    public static BreakerFixture Create(Action<IHealthChecksBuilder> addChecks) => new(addChecks);

    public static BreakerFixture Create() => new(checks => checks.AddCircuitBreakerHealthCheck());

    /// <summary>Sends one GET through a client and returns the status that the caller receives.</summary>
    public async Task<HttpStatusCode> SendAsync(string client, string url)
    {
        using HttpClient http = Provider.GetRequiredService<IHttpClientFactory>().CreateClient(client);
        using HttpResponseMessage response = await http.GetAsync(url);
        return response.StatusCode;
    }

    /// <summary>Creates a client so that its circuit exists, closed, without sending anything.</summary>
    public void Touch(string client) => Provider.GetRequiredService<IHttpClientFactory>().CreateClient(client).Dispose();

    /// <summary>Fails enough requests to the URL's host to open the circuit that serves it.</summary>
    public async Task OpenAsync(string client, string url)
    {
        FailingHosts.Add(new Uri(url).Host);
        for (int i = 0; i < FailureThreshold; i++)
        {
            await SendAsync(client, url);
        }
    }

    /// <summary>
    /// Holds every following upstream request until <see cref="ReleaseHeld"/>, so that a probe stays in flight and
    /// its circuit stays half-open.
    /// </summary>
    public void HoldRequests() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseHeld() => Interlocked.Exchange(ref _gate, null)?.SetResult();

    /// <summary>Runs the registered health checks and returns the entry of the one named <paramref name="name"/>.</summary>
    public async Task<HealthReportEntry> CheckAsync(string name = CircuitBreakerHealthCheckOptions.DefaultName)
    {
        HealthReport report = await Provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries[name];
    }

    public void Dispose()
    {
        ReleaseHeld();
        Provider.Dispose();
        Mock.Dispose();
    }

    private async Task<HttpResponseMessage> RespondAsync(HttpRequestMessage request)
    {
        if (Volatile.Read(ref _gate) is { } gate)
        {
            await gate.Task;
        }

        bool failing = FailingHosts.Contains(request.RequestUri!.Host);
        return new HttpResponseMessage(failing ? HttpStatusCode.InternalServerError : HttpStatusCode.OK);
    }
}
