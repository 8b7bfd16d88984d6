using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace HttpBreaker.Internal;

/// <summary>
/// Creates and keeps the circuits of every client for the lifetime of the service provider.
/// </summary>
internal sealed class CircuitBreakerRegistry : ICircuitBreakerRegistry, IDisposable
{
    private readonly ConcurrentDictionary<string, ClientCircuits> _clients = new(StringComparer.Ordinal);
    private readonly IOptionsMonitor<CircuitBreakerOptions> _options;
    private readonly IOptionsFactory<CircuitBreakerOptions> _optionsFactory;
    private readonly IOptionsMonitorCache<CircuitBreakerOptions> _optionsCache;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly StateChangeNotifier _notifier;
    private readonly CircuitTelemetry _telemetry;
    private readonly ICircuitCoordination? _coordination;
    private readonly bool _coversAllClients;
    private readonly HashSet<string> _clientNames = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _reloadSubscriptions = [];
    private readonly List<ConfigurationReloadSource> _reloadSources = [];
    private readonly HashSet<string> _rejectedReloads = new(StringComparer.Ordinal);
    private readonly Lock _reloadGate = new();
    private int _reloadVersion;

    public CircuitBreakerRegistry(
        IOptionsMonitor<CircuitBreakerOptions> options,
        IOptionsFactory<CircuitBreakerOptions> optionsFactory,
        IOptionsMonitorCache<CircuitBreakerOptions> optionsCache,
        IEnumerable<CircuitBreakerRegistration> registrations,
        IEnumerable<ConfigurationReloadSource> reloadSources,
        IEnumerable<IOptionsChangeTokenSource<CircuitBreakerOptions>> changeTokenSources,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        ICircuitCoordination? coordination = null)
    {
        _options = options;
        _optionsFactory = optionsFactory;
        _optionsCache = optionsCache;
        _coordination = coordination;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("HttpBreaker.CircuitBreaker");
        _notifier = new StateChangeNotifier(_logger) { Sender = this };
        _telemetry = new CircuitTelemetry(meterFactory, _notifier, () => _clients.Values);

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

        // The registry starts with the first client, so options cached before then can predate a reload that no one
        // was watching for yet.
        _optionsCache.Clear();

        foreach (ConfigurationReloadSource source in reloadSources)
        {
            WarnOfUnknownClients(source);
            _reloadSources.Add(source);
            _reloadSubscriptions.Add(ChangeToken.OnChange(source.Section.GetReloadToken, ReloadAll));
        }

        // Options bound by the application itself, such as with services.Configure<CircuitBreakerOptions>(name,
        // section), announce their reloads through these.
        foreach (IOptionsChangeTokenSource<CircuitBreakerOptions> source in changeTokenSources)
        {
            _reloadSubscriptions.Add(ChangeToken.OnChange(source.GetChangeToken, ReloadAll));
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
        if (!_clients.TryGetValue(clientName, out ClientCircuits? client))
        {
            // A reload that runs while the client's options are being read misses the new client, so the client
            // catches up with it here.
            int version = Volatile.Read(ref _reloadVersion);
            client = _clients.GetOrAdd(clientName, CreateClient(clientName));
            if (version != Volatile.Read(ref _reloadVersion))
            {
                Reload(client);
            }
        }

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

    public void Dispose()
    {
        foreach (IDisposable subscription in _reloadSubscriptions)
        {
            subscription.Dispose();
        }

        _telemetry.Dispose();
        _notifier.Dispose();
    }

    /// <summary>
    /// Rebuilds the options of every client after a configuration change and hands them to its circuits. A client
    /// whose new options are invalid keeps the previous ones, and the failure is logged with option and value.
    /// </summary>
    internal void ReloadAll()
    {
        lock (_reloadGate)
        {
            // Clients created from now on read the new configuration rather than options cached before it changed.
            // The cache is cleared before the version moves: a client that sees the new version then cannot read
            // stale options, and one that saw the old version reloads itself or is in the list below.
            _optionsCache.Clear();
            Interlocked.Increment(ref _reloadVersion);
            foreach (ClientCircuits client in _clients.Values)
            {
                Reload(client);
            }

            // A client name misspelled in an edit made while the application runs is as easy to miss as one
            // misspelled at start.
            foreach (ConfigurationReloadSource source in _reloadSources)
            {
                WarnOfUnknownClients(source);
            }
        }
    }

    private void Reload(ClientCircuits client)
    {
        lock (_reloadGate)
        {
            CircuitBreakerOptions options;
            try
            {
                options = _optionsFactory.Create(client.ClientName);
            }
            catch (OptionsValidationException exception)
            {
                Log.ReloadRejected(_logger, client.ClientName, string.Join(" ", exception.Failures));
                _rejectedReloads.Add(client.ClientName);
                return;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // This runs inside a configuration provider's change callback, where an exception would reach the
                // provider instead of anyone who could handle it.
                Log.ReloadFailed(_logger, exception, client.ClientName);
                _rejectedReloads.Add(client.ClientName);
                return;
            }

            CircuitPolicy current = client.Policy;
            if (options.PartitionBy != current.PartitionBy || options.PartitionKey != current.PartitionKey)
            {
                Log.PartitioningKept(_logger, client.ClientName, current.PartitionBy, options.PartitionBy);
                options.PartitionBy = current.PartitionBy;
                options.PartitionKey = current.PartitionKey;
            }

            // The last word in the log about a client whose configuration was fixed must not be the rejection.
            bool wasRejected = _rejectedReloads.Remove(client.ClientName);
            var policy = CircuitPolicy.Create(options);
            if (policy.HasSameSettings(current))
            {
                if (wasRejected)
                {
                    Log.ReloadValidAgain(_logger, client.ClientName);
                }

                return;
            }

            client.UpdatePolicy(policy);
            Log.OptionsReloaded(_logger, client.ClientName, client.AllCircuits.Count());
        }
    }

    private ClientCircuits CreateClient(string clientName)
    {
        ICircuitEventSink events = _coordination?.GetEventSink(clientName, _telemetry) ?? _telemetry;
        return new ClientCircuits(clientName, CircuitPolicy.Create(_options.Get(clientName)), _timeProvider, _logger, events);
    }

    /// <summary>
    /// Warns of settings under <c>Clients</c> for a name that has no breaker, which is most often a misspelled
    /// client name whose settings would otherwise be ignored without a word.
    /// </summary>
    private void WarnOfUnknownClients(ConfigurationReloadSource source)
    {
        if (_coversAllClients || source.ClientsSection is not IConfigurationSection clients)
        {
            return;
        }

        foreach (IConfigurationSection configured in clients.GetChildren())
        {
            if (!_clientNames.Contains(configured.Key))
            {
                Log.UnknownConfiguredClient(_logger, clients.Path, configured.Key, FormatKnownClients());
            }
        }
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
            string known = FormatKnownClients();
            throw new ArgumentException(
                $"No circuit breaker is registered for client '{name}'. Clients with a circuit breaker: {known}. " +
                $"Register one with services.AddHttpClient(\"{name}\").AddCircuitBreaker().",
                nameof(name));
        }

        return GetOrCreateClient(name);
    }

    private string FormatKnownClients() =>
        _clientNames.Count == 0 ? "none" : string.Join(", ", _clientNames.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
}
