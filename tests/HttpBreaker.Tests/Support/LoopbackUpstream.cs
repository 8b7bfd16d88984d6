using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HttpBreaker.Tests.Support;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with an ephemeral port. <c>GET /</c> answers with <see cref="Status"/>;
/// <c>GET /hold</c> waits until <see cref="ReleaseHeld"/> is called, so a test can keep a request in flight.
/// </summary>
internal sealed class LoopbackUpstream : IAsyncDisposable
{
    public const string Body = "payload from the upstream";

    private readonly WebApplication _app;
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private int _received;
    private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LoopbackUpstream(WebApplication app) => _app = app;

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    public int Received => Volatile.Read(ref _received);

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<LoopbackUpstream> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var upstream = new LoopbackUpstream(app);

        app.MapGet("/", upstream.AnswerAsync);
        app.MapGet("/hold", upstream.HoldAsync);
        await app.StartAsync();

        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        upstream.BaseAddress = new Uri(address);
        return upstream;
    }

    /// <summary>Returns the address of a loopback port that nothing listens on, so connecting to it is refused.</summary>
    public static Uri GetRefusingAddress()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>
    /// Completes once the server has received <paramref name="count"/> requests in all, and fails after ten
    /// seconds so that a regression fails the test instead of hanging it.
    /// </summary>
    public Task WhenReceivedAsync(int count)
    {
        lock (_waiters)
        {
            if (_received >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public void ReleaseHeld() => Interlocked.Exchange(ref _held, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).SetResult();

    public async ValueTask DisposeAsync()
    {
        ReleaseHeld();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void CountRequest()
    {
        lock (_waiters)
        {
            _received++;
            foreach ((int count, TaskCompletionSource reached) in _waiters)
            {
                if (_received >= count)
                {
                    reached.TrySetResult();
                }
            }
        }
    }

    private async Task AnswerAsync(HttpContext context)
    {
        CountRequest();
        context.Response.StatusCode = (int)Status;
        context.Response.Headers["X-Upstream"] = "loopback";
        await context.Response.WriteAsync(Body);
    }

    private async Task HoldAsync(HttpContext context)
    {
        CountRequest();
        await Volatile.Read(ref _held).Task.WaitAsync(context.RequestAborted);
        context.Response.StatusCode = (int)Status;
        await context.Response.WriteAsync(Body);
    }
}
