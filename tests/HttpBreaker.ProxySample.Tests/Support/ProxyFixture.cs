using System.Net.Http.Json;
using System.Text.Json;
using HttpBreaker.ProxySample;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace HttpBreaker.ProxySample.Tests.Support;

/// <summary>
/// The proxy sample on a real Kestrel port of 127.0.0.1, in front of its flaky upstream on another, with a fake
/// clock for the breaker so that a test advances through a break instead of waiting for it.
/// </summary>
internal sealed class ProxyFixture : IAsyncDisposable
{
    private ProxyFixture(FlakyUpstream upstream, WebApplication app, FakeTimeProvider time)
    {
        Upstream = upstream;
        App = app;
        Time = time;
        Address = ProxyApp.GetAddress(app);
        Http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        Options = app.Services.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>().Get(ProxyApp.ClientName);
    }

    public FlakyUpstream Upstream { get; }

    public WebApplication App { get; }

    public FakeTimeProvider Time { get; }

    public Uri Address { get; }

    /// <summary>A plain client for the proxy, without a breaker of its own.</summary>
    public HttpClient Http { get; }

    /// <summary>The options of the <c>external</c> client, as bound from <c>appsettings.json</c> and the arguments.</summary>
    public CircuitBreakerOptions Options { get; }

    public ICircuitBreakerRegistry Registry => App.Services.GetRequiredService<ICircuitBreakerRegistry>();

    /// <summary>Starts the upstream and the proxy, passing <paramref name="args"/> to the proxy's configuration.</summary>
    public static async Task<ProxyFixture> StartAsync(params string[] args)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero));
        FlakyUpstream upstream = await FlakyUpstream.StartAsync();
        WebApplication app = ProxyApp.Build(args, upstream.Address, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<TimeProvider>(time);
        });
        await app.StartAsync();
        return new ProxyFixture(upstream, app, time);
    }

    public Task<HttpResponseMessage> GetExternalAsync() => Http.GetAsync("api/v1/external");

    public Task<HttpResponseMessage> PostAsync(string path) => Http.PostAsync(path, content: null);

    /// <summary>Sends one request per failure that opens the circuit, while the upstream fails.</summary>
    public async Task OpenCircuitAsync()
    {
        Upstream.Mode = UpstreamMode.Failing;
        for (int i = 0; i < Options.FailureThreshold; i++)
        {
            (await GetExternalAsync()).Dispose();
        }
    }

    /// <summary>Reads the overall status from <c>GET /health</c>.</summary>
    public async Task<string?> GetHealthStatusAsync()
    {
        using JsonDocument health = await GetJsonAsync("health");
        return health.RootElement.GetProperty("status").GetString();
    }

    /// <summary>Reads the circuit of the <c>external</c> client from <c>GET /circuits</c>.</summary>
    public async Task<CircuitView> GetCircuitAsync()
    {
        List<CircuitView>? circuits = await Http.GetFromJsonAsync<List<CircuitView>>("circuits", JsonSerializerOptions.Web);
        return circuits!.Single(circuit => circuit.Name == ProxyApp.ClientName);
    }

    public async Task<JsonDocument> GetJsonAsync(string path)
    {
        using HttpResponseMessage response = await Http.GetAsync(path);
        return await ReadJsonAsync(response);
    }

    public static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync());

    /// <summary>Reads the <c>reason</c> of a problem body, such as <c>circuit-open</c>.</summary>
    public static async Task<string?> ReadReasonAsync(HttpResponseMessage response)
    {
        using JsonDocument problem = await ReadJsonAsync(response);
        return problem.RootElement.GetProperty("reason").GetString();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
