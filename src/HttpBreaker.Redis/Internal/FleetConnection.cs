using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// One Redis connection shared by the clients that name the same configuration, or the connection registered in
/// the service collection. Connecting runs in the background, so no request waits for it.
/// </summary>
internal sealed class FleetConnection : IAsyncDisposable
{
    private readonly Task<IConnectionMultiplexer> _connecting;
    private readonly bool _ownsMultiplexer;
    private IConnectionMultiplexer? _multiplexer;

    private FleetConnection(Task<IConnectionMultiplexer> connecting, bool ownsMultiplexer)
    {
        _ownsMultiplexer = ownsMultiplexer;
        _connecting = connecting.ContinueWith(
            task =>
            {
                IConnectionMultiplexer multiplexer = task.Result;
                multiplexer.ConnectionRestored += (_, _) => Restored?.Invoke();
                Volatile.Write(ref _multiplexer, multiplexer);

                // The first connection counts as a restoration, so clients that queued work before it resynchronise.
                Restored?.Invoke();
                return multiplexer;
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion,
            TaskScheduler.Default);
    }

    /// <summary>Raised after the connection to Redis was made or made again, on a thread of the Redis client.</summary>
    public event Action? Restored;

    /// <summary>Gets whether Redis is connected now; <see langword="false"/> while connecting.</summary>
    public bool IsConnected => Volatile.Read(ref _multiplexer) is { IsConnected: true };

    /// <summary>
    /// Starts connecting with a configuration string. The connection keeps retrying while Redis is down instead of
    /// failing, and a command sent while it is down fails at once instead of waiting in a queue.
    /// </summary>
    public static FleetConnection Connect(string configuration)
    {
        ConfigurationOptions options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return new FleetConnection(Task.Run(() => ConnectAsync(options)), ownsMultiplexer: true);
    }

    /// <summary>Uses a connection that its owner configured and disposes.</summary>
    public static FleetConnection Use(IConnectionMultiplexer multiplexer) => new(Task.FromResult(multiplexer), ownsMultiplexer: false);

    public Task<IConnectionMultiplexer> GetMultiplexerAsync() => _connecting;

    public async ValueTask DisposeAsync()
    {
        if (!_ownsMultiplexer)
        {
            return;
        }

        if (Volatile.Read(ref _multiplexer) is { } multiplexer)
        {
            // Closing without waiting for commands in flight, which a Redis that stopped replying would hold until
            // they time out.
            await multiplexer.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await multiplexer.DisposeAsync().ConfigureAwait(false);
            return;
        }

        // Still connecting, which can last the connect timeout while Redis is down: close the connection once it
        // exists rather than hold up the disposal of the service provider.
        _ = _connecting.ContinueWith(
            static task => task.Result.Dispose(),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion,
            TaskScheduler.Default);
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions options) =>
        await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
}
