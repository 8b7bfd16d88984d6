using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HttpBreaker.Sample;

/// <summary>
/// A Kestrel server on 127.0.0.1 that responds to <c>GET /</c> with a repeating sequence of status codes, such as
/// 200 alone or 500, 500, 200, and that can be stopped so that connections to its port are refused, then started
/// again on the same port.
/// </summary>
internal sealed class FlakyUpstream : IAsyncDisposable
{
    private readonly Lock _responseLock = new();
    private WebApplication? _app;
    private int _requestCount;
    private int[] _statusCodes = [StatusCodes.Status200OK];
    private int _nextStatusIndex;

    private FlakyUpstream()
    {
    }

    /// <summary>The port the server listens on, chosen by the operating system at the first start.</summary>
    public int Port { get; private set; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>The number of requests the server has handled, over every start.</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>
    /// Makes the server respond with these status codes in turn, one per request, starting again from the first
    /// after the last. The sequence starts from its first code whatever the previous one had reached.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="statusCodes"/> is empty.</exception>
    public void RespondWith(params int[] statusCodes)
    {
        if (statusCodes.Length == 0)
        {
            throw new ArgumentException("At least one status code is required.", nameof(statusCodes));
        }

        lock (_responseLock)
        {
            _statusCodes = statusCodes;
            _nextStatusIndex = 0;
        }
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

        // The lock keeps a sequence and its position together, so a request that races RespondWith gets a code
        // of either the old or the new sequence.
        int statusCode;
        lock (_responseLock)
        {
            statusCode = _statusCodes[_nextStatusIndex];
            _nextStatusIndex = (_nextStatusIndex + 1) % _statusCodes.Length;
        }

        return Results.StatusCode(statusCode);
    }
}
