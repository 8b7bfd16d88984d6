using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace HttpBreaker.Internal;

/// <summary>
/// Delivers state changes to <see cref="ICircuitBreakerRegistry.StateChanged"/> subscribers from a background
/// task, so that a subscriber that throws or blocks never breaks or delays a request.
/// </summary>
/// <remarks>
/// The request that causes a change only writes to a bounded queue. When subscribers fall behind by more than the
/// queue holds, the oldest changes are dropped and counted in a warning.
/// </remarks>
internal sealed class StateChangeNotifier : ICircuitEventSink, IDisposable
{
    private const int QueueCapacity = 10_000;

    private readonly Channel<CircuitStateChangedEventArgs> _queue;
    private readonly ILogger _logger;
    private readonly object _subscriptionGate = new();
    private EventHandler<CircuitStateChangedEventArgs>? _handlers;
    private Task? _pump;
    private long _dropped;

    public StateChangeNotifier(ILogger logger)
    {
        _logger = logger;
        _queue = Channel.CreateBounded<CircuitStateChangedEventArgs>(
            new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            OnDropped);
    }

    /// <summary>Gets or sets the object passed as the sender of every event.</summary>
    public object? Sender { get; set; }

    public void Subscribe(EventHandler<CircuitStateChangedEventArgs> handler)
    {
        lock (_subscriptionGate)
        {
            _handlers += handler;
            _pump ??= Task.Run(PumpAsync);
        }
    }

    public void Unsubscribe(EventHandler<CircuitStateChangedEventArgs> handler)
    {
        lock (_subscriptionGate)
        {
            _handlers -= handler;
        }
    }

    public void OnTransition(Circuit circuit, CircuitState from, CircuitState to, CircuitTransitionReason reason, DateTimeOffset timestamp)
    {
        if (Volatile.Read(ref _handlers) is null)
        {
            return;
        }

        var change = new CircuitStateChangedEventArgs(circuit.Name, circuit.ClientName, circuit.PartitionKey, from, to, reason, timestamp);
        _queue.Writer.TryWrite(change);
    }

    public void Dispose() => _queue.Writer.TryComplete();

    private async Task PumpAsync()
    {
        await foreach (CircuitStateChangedEventArgs change in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            EventHandler<CircuitStateChangedEventArgs>? handlers = Volatile.Read(ref _handlers);
            if (handlers is null)
            {
                continue;
            }

            foreach (EventHandler<CircuitStateChangedEventArgs> handler in handlers.GetInvocationList().Cast<EventHandler<CircuitStateChangedEventArgs>>())
            {
                try
                {
                    handler(Sender, change);
                }
                catch (Exception exception)
                {
                    // One failing subscriber must not stop delivery to the others or to itself later.
                    Log.SubscriberFailed(_logger, exception, change.ClientName, change.CircuitName);
                }
            }
        }
    }

    private void OnDropped(CircuitStateChangedEventArgs change)
    {
        long dropped = Interlocked.Increment(ref _dropped);

        // The first drop and every thousandth after it are logged, so a stuck subscriber cannot flood the log.
        if (dropped == 1 || dropped % 1000 == 0)
        {
            Log.StateChangesDropped(_logger, dropped, QueueCapacity);
        }
    }
}
