using System.Collections.Concurrent;
using System.Threading.Channels;
using HttpBreaker.Internal;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// Shares the circuits of one client through Redis. It sits between the circuits and their event sink: it reports
/// local trips, probe results and manual changes, applies the shared state that Redis returns, and gates the probe so
/// that only the instance holding the lease sends one.
/// </summary>
/// <remarks>
/// Nothing here waits for Redis on the request path. Events and the probe gate only queue a command. One background
/// loop per client runs the commands in order and applies each result to the local circuit. While Redis cannot be
/// reached, the circuits decide locally, as if they were not shared.
/// </remarks>
internal sealed partial class ClientFleet : ICircuitEventSink, IForwardingEventSink, ICircuitProbeGate, IAsyncDisposable
{
    /// <summary>Set while the loop applies shared state, so the transitions it causes are not reported back.</summary>
    [ThreadStatic]
    private static bool _applying;

    private readonly string _clientName;
    private readonly ICircuitEventSink _events;
    private readonly FleetConnection _connection;
    private readonly FleetScope _scope;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly FleetMetrics _metrics;
    private readonly Channel<FleetCommand> _commands = Channel.CreateUnbounded<FleetCommand>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, FleetCircuit> _circuits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _unsentManual = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private ClientCircuits? _client;
    private ITimer? _refreshTimer;
    private Task? _loop;
    private int _outage;
    private int _refreshQueued;
    private bool _subscribed;

    public ClientFleet(
        string clientName,
        ICircuitEventSink events,
        FleetConnection connection,
        FleetScope scope,
        TimeSpan refreshInterval,
        TimeProvider timeProvider,
        ILogger logger,
        FleetMetrics metrics)
    {
        _clientName = clientName;
        _events = events;
        _connection = connection;
        _scope = scope;
        _refreshInterval = refreshInterval;
        _timeProvider = timeProvider;
        _logger = logger;
        _metrics = metrics;
    }

    public ICircuitEventSink Next => _events;

    /// <summary>Gets whether shared state is used now: Redis is connected and the last command succeeded.</summary>
    private bool IsAvailable => _connection.IsConnected && Volatile.Read(ref _outage) == 0;

    /// <summary>Starts the background loop, the subscription and the periodic refresh for the stored circuits of the client.</summary>
    public void Attach(ClientCircuits client)
    {
        if (Interlocked.CompareExchange(ref _client, client, null) is not null)
        {
            return;
        }

        _loop = Task.Run(RunAsync);
        _connection.Restored += QueueRefreshAll;
        _refreshTimer = _timeProvider.CreateTimer(static state => ((ClientFleet)state!).QueueRefreshAll(), this, _refreshInterval, _refreshInterval);
        QueueRefreshAll();
    }

    public void OnTransition(Circuit circuit, CircuitState from, CircuitState to, CircuitTransitionReason reason, DateTimeOffset timestamp)
    {
        _events.OnTransition(circuit, from, to, reason, timestamp);
        if (_applying || Volatile.Read(ref _client) is null)
        {
            return;
        }

        switch (reason)
        {
            case CircuitTransitionReason.FailureThreshold or CircuitTransitionReason.FailureRatio when circuit.CurrentPhase is OpenPhase open:
                Enqueue(new FleetCommand(FleetCommandKind.Trip, circuit.Name, GetBreak(open, reason)));
                break;

            case CircuitTransitionReason.ProbeSucceeded when Track(circuit.Name).HoldsLease:
                Enqueue(new FleetCommand(FleetCommandKind.ProbeSucceeded, circuit.Name, new FleetBreak(TimeSpan.Zero, TimeSpan.Zero, 0, reason)));
                break;

            case CircuitTransitionReason.ProbeFailed or CircuitTransitionReason.ProbeTimedOut
                when Track(circuit.Name).HoldsLease && circuit.CurrentPhase is OpenPhase reopened:
                Enqueue(new FleetCommand(FleetCommandKind.ProbeFailed, circuit.Name, GetBreak(reopened, reason)));
                break;

            case CircuitTransitionReason.Manual:
                Track(circuit.Name).AddPendingManual();
                Enqueue(new FleetCommand(to == CircuitState.Isolated ? FleetCommandKind.Isolate : FleetCommandKind.Reset, circuit.Name));
                break;

            case CircuitTransitionReason.Evicted:
                _circuits.TryRemove(circuit.Name, out _);
                break;
        }
    }

    public bool TryEnterHalfOpen(Circuit circuit, OpenPhase open)
    {
        // Without Redis, or while the shared circuit is closed because only this instance tripped, the local circuit
        // probes on its own.
        if (!IsAvailable)
        {
            return true;
        }

        FleetCircuit tracked = Track(circuit.Name);
        if (tracked.KnownState == FleetState.Closed)
        {
            return true;
        }

        if (tracked.TryStartAcquiring(open))
        {
            Enqueue(new FleetCommand(FleetCommandKind.AcquireProbe, circuit.Name));
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        _connection.Restored -= QueueRefreshAll;
        if (_refreshTimer is not null)
        {
            await _refreshTimer.DisposeAsync().ConfigureAwait(false);
        }

        _commands.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        if (_subscribed && _connection.IsConnected)
        {
            try
            {
                IConnectionMultiplexer multiplexer = await _connection.GetMultiplexerAsync().ConfigureAwait(false);
                // Fire and forget, so that a Redis that stopped replying cannot hold up the disposal.
                await multiplexer.GetSubscriber().UnsubscribeAsync(_scope.Channel, OnMessage, CommandFlags.FireAndForget).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisException or ObjectDisposedException)
            {
                // The connection is going away with the application; nothing is left to clean up.
            }
        }

        _stopping.Dispose();
    }

    private static FleetBreak GetBreak(OpenPhase open, CircuitTransitionReason reason) =>
        new(open.ProbeAt.GetValueOrDefault() - open.OpenedAt.GetValueOrDefault(), open.BaseBreak, open.ConsecutiveFailures, reason);

    private FleetCircuit Track(string circuitName) => _circuits.GetOrAdd(circuitName, static _ => new FleetCircuit());

    private void Enqueue(FleetCommand command) => _commands.Writer.TryWrite(command);

    private void QueueRefreshAll()
    {
        if (Interlocked.Exchange(ref _refreshQueued, 1) == 0)
        {
            Enqueue(new FleetCommand(FleetCommandKind.RefreshAll));
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        string circuitName = message.ToString();
        if (circuitName == _clientName || circuitName.StartsWith(_clientName + "/", StringComparison.Ordinal))
        {
            Enqueue(new FleetCommand(FleetCommandKind.Refresh, circuitName));
        }
    }

    /// <summary>Finds the local circuit of a shared circuit name, or <see langword="null"/> when this instance does not use it.</summary>
    private Circuit? Find(string circuitName)
    {
        ClientCircuits? client = Volatile.Read(ref _client);
        if (client is null)
        {
            return null;
        }

        if (circuitName == _clientName)
        {
            return client.ClientCircuit;
        }

        string key = circuitName[(_clientName.Length + 1)..];
        return client.Partitions is { } partitions && partitions.TryGet(key, out PartitionEntry? entry) ? entry!.Circuit : null;
    }
}
