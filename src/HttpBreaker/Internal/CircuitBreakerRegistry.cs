using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Internal;

/// <summary>
/// Creates and keeps the circuits of every client for the lifetime of the service provider.
/// </summary>
internal sealed class CircuitBreakerRegistry : ICircuitBreakerRegistry, IDisposable
{
    private readonly ConcurrentDictionary<string, ClientCircuits> _clients = new(StringComparer.Ordinal);
    private readonly IOptionsMonitor<CircuitBreakerOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly StateChangeNotifier _notifier;
    private readonly ICircuitCoordination? _coordination;
    private readonly bool _coversAllClients;
    private readonly HashSet<string> _clientNames = new(StringComparer.Ordinal);

    public CircuitBreakerRegistry(
        IOptionsMonitor<CircuitBreakerOptions> options,
        IEnumerable<CircuitBreakerRegistration> registrations,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        ICircuitCoordination? coordination = null)
    {
        _options = options;
        _coordination = coordination;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("HttpBreaker.CircuitBreaker");
        _notifier = new StateChangeNotifier(_logger) { Sender = this };

        foreach (CircuitBreakerRegistration registration in registrations)
        {
            if (registration.ClientName is null)
            {
                _coversAllClients = true;
            }
            else
            {
                _clientNames.Add(registration.ClientName);
            }
        }
    }

    public event EventHandler<CircuitStateChangedEventArgs>? StateChanged
    {
        add
        {
            if (value is not null)
            {
                _notifier.Subscribe(value);
            }
        }

        remove
        {
            if (value is not null)
            {
                _notifier.Unsubscribe(value);
            }
        }
    }

    internal ILogger Logger => _logger;

    /// <summary>
    /// Returns the circuits of a client, creating them on first use. Creating them reads the client's options, so
    /// invalid options raise <see cref="OptionsValidationException"/> here and nothing is stored.
    /// </summary>
    internal ClientCircuits GetOrCreateClient(string clientName)
    {
        ClientCircuits client = _clients.TryGetValue(clientName, out ClientCircuits? existing)
            ? existing
            : _clients.GetOrAdd(clientName, CreateClient(clientName));

        // Every caller attaches, not only the one that stored the circuits, so none can use them before they are
        // attached. This runs once per handler, not per request, and attaching again has no effect.
        _coordination?.Attach(client);
        return client;
    }

    public bool TryGetCircuit(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CircuitSnapshot? snapshot) =>
        TryGetCircuit(name, partitionKey: null, out snapshot);

    public bool TryGetCircuit(string clientName, string? partitionKey, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CircuitSnapshot? snapshot)
    {
        ArgumentNullException.ThrowIfNull(clientName);

        snapshot = null;
        if (!_clients.TryGetValue(clientName, out ClientCircuits? client))
        {
            return false;
        }

        if (partitionKey is null)
        {
            snapshot = client.ClientCircuit.GetSnapshot();
        }
        else if (client.Partitions is not null && client.Partitions.TryGet(partitionKey, out PartitionEntry? entry))
        {
            snapshot = entry!.Circuit.GetSnapshot();
        }

        return snapshot is not null;
    }

    public IReadOnlyList<CircuitSnapshot> GetCircuits()
    {
        var snapshots = new List<CircuitSnapshot>();
        foreach (ClientCircuits client in _clients.Values)
        {
            snapshots.AddRange(client.AllCircuits.Select(circuit => circuit.GetSnapshot()));
        }

        snapshots.Sort(static (left, right) => string.CompareOrdinal(left.Name, right.Name));
        return snapshots;
    }

    public void Isolate(string name) => GetRegisteredClient(name).IsolateAll();

    public void Reset(string name) => GetRegisteredClient(name).ResetAll();

    public void Isolate(string clientName, string partitionKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);

        PartitionTable partitions = GetPartitions(clientName);
        PartitionEntry entry = partitions.Acquire(partitionKey) ?? throw new InvalidOperationException(
            $"Client '{clientName}' already has {partitions.Count} partition circuits that cannot be evicted, its MaxPartitions. " +
            $"Reset isolated partitions or raise MaxPartitions to isolate '{partitionKey}'.");

        try
        {
            entry.Circuit.Isolate();
        }
        finally
        {
            entry.Release();
        }
    }

    public void Reset(string clientName, string partitionKey)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);

        // A partition without a circuit is already as good as closed, so there is nothing to reset.
        if (GetPartitions(clientName).TryGet(partitionKey, out PartitionEntry? entry))
        {
            entry!.Circuit.Reset();
        }
    }

    public void Dispose() => _notifier.Dispose();

    private ClientCircuits CreateClient(string clientName)
    {
        ICircuitEventSink events = _coordination?.GetEventSink(clientName, _notifier) ?? _notifier;
        return new ClientCircuits(clientName, CircuitPolicy.Create(_options.Get(clientName)), _timeProvider, _logger, events);
    }

    private PartitionTable GetPartitions(string clientName) =>
        GetRegisteredClient(clientName).Partitions ?? throw new ArgumentException(
            $"Client '{clientName}' is not partitioned, so it has no partition circuits. Set PartitionBy or PartitionKey in its circuit breaker options, " +
            $"or use Isolate(\"{clientName}\") and Reset(\"{clientName}\") for its one circuit.",
            nameof(clientName));

    /// <summary>
    /// Returns the circuits of a client that has a breaker, creating them so that an operator can isolate a client
    /// before its first request. An unknown name is rejected rather than given circuits nothing would use.
    /// </summary>
    private ClientCircuits GetRegisteredClient(string name)
    {
        ArgumentNullException.ThrowIfNull(name);

        if (_clients.TryGetValue(name, out ClientCircuits? client))
        {
            return client;
        }

        if (!_coversAllClients && !_clientNames.Contains(name))
        {
            string known = _clientNames.Count == 0 ? "none" : string.Join(", ", _clientNames.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
            throw new ArgumentException(
                $"No circuit breaker is registered for client '{name}'. Clients with a circuit breaker: {known}. " +
                $"Register one with services.AddHttpClient(\"{name}\").AddCircuitBreaker().",
                nameof(name));
        }

        return GetOrCreateClient(name);
    }
}
