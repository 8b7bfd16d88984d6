using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HttpBreaker.Sample;

/// <summary>
/// A Kestrel server on 127.0.0.1 that responds to <c>GET /</c> with 200 or 500, and that can be stopped so that
/// connections to its port are refused, then started again on the same port.
/// </summary>
internal sealed class FlakyUpstream : IAsyncDisposable
{
    private WebApplication? _app;
    private int _requestCount;
    private volatile bool _isFailing;

    private FlakyUpstream()
    {
    }

    /// <summary>The port the server listens on, chosen by the operating system at the first start.</summary>
    public int Port { get; private set; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>The number of requests the server has handled, over every start.</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>Whether the server returns 500 Internal Server Error instead of 200 OK.</summary>
    public bool IsFailing
    {
        get => _isFailing;
        set => _isFailing = value;
    }

    /// <summary>
    /// Starts a server on an ephemeral port of 127.0.0.1.
    /// </summary>
    public static async Task<FlakyUpstream> StartAsync(CancellationToken cancellationToken)
    {
        var upstream = new FlakyUpstream();
        await upstream.ListenAsync(0, cancellationToken);
        return upstream;
    }

    /// <summary>
    /// Starts the server again on the port of its first start, so the client's URL stays valid.
    /// </summary>
    /// <exception cref="IOException">Another process took the port while the server was stopped.</exception>
    public Task RestartAsync(CancellationToken cancellationToken) => ListenAsync(Port, cancellationToken);

    /// <summary>
    /// Stops the server and closes its listening socket, so that new connections are refused.
    /// </summary>
    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }

        WebApplication app = _app;
        _app = null;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task ListenAsync(int port, CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException($"The upstream already listens on port {Port}.");
        }

        // The empty builder adds no logging providers, so Kestrel prints nothing. The explicit Listen call keeps
        // the server on 127.0.0.1 even when ASPNETCORE_URLS and ASPNETCORE_PREFERHOSTINGURLS are set.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.AddRoutingCore();

        WebApplication app = builder.Build();
        app.MapGet("/", Respond);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        _app = app;
        Port = new Uri(app.Urls.Single()).Port;
    }

    private IResult Respond()
    {
        Interlocked.Increment(ref _requestCount);

        return _isFailing ? Results.StatusCode(StatusCodes.Status500InternalServerError) : Results.Ok();
    }
}
