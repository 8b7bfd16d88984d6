using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HttpBreaker.FleetSample;

/// <summary>
/// A Kestrel server on 127.0.0.1 with an ephemeral port that responds to <c>GET /</c> with 200, or with 500 while
/// <see cref="Failing"/> is set, and counts the requests it received.
/// </summary>
internal sealed class SwitchableUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _received;

    private SwitchableUpstream(WebApplication app) => _app = app;

    public bool Failing
    {
        get => Volatile.Read(ref field);
        set => Volatile.Write(ref field, value);
    }

    public int Received => Volatile.Read(ref _received);

    public Uri Address { get; private set; } = null!;

    public static async Task<SwitchableUpstream> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var upstream = new SwitchableUpstream(app);
        app.MapGet("/", upstream.Respond);
        await app.StartAsync();

        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        upstream.Address = new Uri(address);
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private IResult Respond()
    {
        Interlocked.Increment(ref _received);
        return Failing ? Results.StatusCode(StatusCodes.Status500InternalServerError) : Results.Ok("fine");
    }
}
