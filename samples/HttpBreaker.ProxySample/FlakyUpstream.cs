using System.Globalization;
using System.Net;

namespace HttpBreaker.ProxySample;

/// <summary>
/// An upstream for the proxy: a Kestrel server on 127.0.0.1 with an ephemeral port whose <c>GET /data</c> succeeds,
/// fails or hangs according to <see cref="Mode"/>. The mode is set in process, or over HTTP with <c>POST /control/healthy</c>,
/// <c>/control/failing</c>, <c>/control/overloaded</c> and <c>/control/hanging</c>.
/// </summary>
public sealed class FlakyUpstream : IAsyncDisposable
{
    /// <summary>The path that the proxy's client requests.</summary>
    public const string DataPath = "data";

    /// <summary>The <c>Retry-After</c> of the 503 in <see cref="UpstreamMode.Overloaded"/>.</summary>
    public static readonly TimeSpan OverloadedRetryAfter = TimeSpan.FromSeconds(30);

    private readonly Lock _modeLock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _requestWaiters = [];
    private WebApplication? _app;
    private UpstreamMode _mode = UpstreamMode.Healthy;
    private TaskCompletionSource _leaveHanging = NewSignal();
    private int _requestCount;

    private FlakyUpstream()
    {
    }

    /// <summary>The base address of the server, such as <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The number of <c>GET /data</c> requests the server has received.</summary>
    public int RequestCount
    {
        get
        {
            lock (_requestWaiters)
            {
                return _requestCount;
            }
        }
    }

    /// <summary>
    /// Gets or sets how the server responds. Leaving <see cref="UpstreamMode.Hanging"/> releases every held request
    /// with the new mode's response.
    /// </summary>
    public UpstreamMode Mode
    {
        get
        {
            lock (_modeLock)
            {
                return _mode;
            }
        }

        set
        {
            TaskCompletionSource? released = null;
            lock (_modeLock)
            {
                if (_mode == UpstreamMode.Hanging && value != UpstreamMode.Hanging)
                {
                    released = _leaveHanging;
                    _leaveHanging = NewSignal();
                }

                _mode = value;
            }

            released?.SetResult();
        }
    }

    /// <summary>
    /// Starts the server on an ephemeral port of 127.0.0.1.
    /// </summary>
    public static async Task<FlakyUpstream> StartAsync(CancellationToken cancellationToken = default)
    {
        // The empty builder adds no logging provider, so the upstream prints nothing over the proxy's own output.
        // The explicit Listen keeps it on 127.0.0.1 even when ASPNETCORE_URLS is set.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        WebApplication app = builder.Build();
        var upstream = new FlakyUpstream { _app = app };
        app.MapGet("/" + DataPath, upstream.RespondAsync);
        app.MapPost("/control/{mode}", upstream.SetMode);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        upstream.Address = new Uri(app.Urls.Single() + "/");
        return upstream;
    }

    /// <summary>
    /// Completes once the server has received <paramref name="count"/> data requests in all, so that a caller
    /// knows a request is in flight. Fails after ten seconds rather than hang a caller whose request never came.
    /// </summary>
    public Task WhenRequestsReceivedAsync(int count)
    {
        lock (_requestWaiters)
        {
            if (_requestCount >= count)
            {
                return Task.CompletedTask;
            }

            TaskCompletionSource reached = NewSignal();
            _requestWaiters.Add((count, reached));
            return reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// Stops the server and closes its listening socket, so that new connections to its port are refused.
    /// </summary>
    public async Task StopAsync()
    {
        WebApplication? app = Interlocked.Exchange(ref _app, null);
        if (app is null)
        {
            return;
        }

        // Held requests are released first, so stopping does not wait for them to time out.
        Mode = UpstreamMode.Failing;
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(StopAsync());

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task RespondAsync(HttpContext context)
    {
        CountRequest();

        Task leftHanging;
        lock (_modeLock)
        {
            leftHanging = _mode == UpstreamMode.Hanging ? _leaveHanging.Task : Task.CompletedTask;
        }

        try
        {
            await leftHanging.WaitAsync(context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The caller, such as the breaker's Timeout, gave up on this request, so no response is written.
            return;
        }

        switch (Mode)
        {
            case UpstreamMode.Failing:
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsync("simulated failure");
                break;
            case UpstreamMode.Overloaded:
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = ((int)OverloadedRetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                await context.Response.WriteAsync("simulated overload");
                break;
            default:
                await context.Response.WriteAsJsonAsync(new UpstreamData("flaky-upstream", RequestCount));
                break;
        }
    }

    private IResult SetMode(string mode)
    {
        if (!Enum.TryParse(mode, ignoreCase: true, out UpstreamMode parsed) || !Enum.IsDefined(parsed))
        {
            return Results.Problem(
                statusCode: StatusCodes.Status404NotFound,
                title: "Unknown upstream mode",
                detail: $"'{mode}' is not a mode. Use /control/healthy, /control/failing, /control/overloaded or /control/hanging.");
        }

        Mode = parsed;
        return Results.Ok(new { mode = parsed.ToString() });
    }

    private void CountRequest()
    {
        lock (_requestWaiters)
        {
            _requestCount++;
            foreach ((int count, TaskCompletionSource reached) in _requestWaiters)
            {
                if (_requestCount >= count)
                {
                    reached.TrySetResult();
                }
            }
        }
    }
}
