using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Internal;

/// <summary>
/// Creates and keeps one <see cref="Circuit"/> per client name for the lifetime of the service provider.
/// </summary>
internal sealed class CircuitBreakerRegistry : ICircuitBreakerRegistry
{
    private readonly ConcurrentDictionary<string, Circuit> _circuits = new(StringComparer.Ordinal);
    private readonly IOptionsMonitor<CircuitBreakerOptions> _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly bool _coversAllClients;
    private readonly HashSet<string> _clientNames = new(StringComparer.Ordinal);

    public CircuitBreakerRegistry(
        IOptionsMonitor<CircuitBreakerOptions> options,
        IEnumerable<CircuitBreakerRegistration> registrations,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("HttpBreaker.CircuitBreaker");

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

    internal ILogger Logger => _logger;

    /// <summary>
    /// Returns the client's circuit, creating it on first use. Creating it reads the client's options, so invalid
    /// options raise <see cref="OptionsValidationException"/> here and no circuit is stored.
    /// </summary>
    internal Circuit GetOrCreateCircuit(string clientName) =>
        _circuits.TryGetValue(clientName, out Circuit? circuit)
            ? circuit
            : _circuits.GetOrAdd(clientName, CreateCircuit(clientName));

    public bool TryGetCircuit(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CircuitSnapshot? snapshot)
    {
        ArgumentNullException.ThrowIfNull(name);

        snapshot = _circuits.TryGetValue(name, out Circuit? circuit) ? circuit.GetSnapshot() : null;
        return snapshot is not null;
    }

    public IReadOnlyList<CircuitSnapshot> GetCircuits()
    {
        var snapshots = new List<CircuitSnapshot>(_circuits.Count);
        foreach (KeyValuePair<string, Circuit> entry in _circuits)
        {
            snapshots.Add(entry.Value.GetSnapshot());
        }

        snapshots.Sort(static (left, right) => string.CompareOrdinal(left.Name, right.Name));
        return snapshots;
    }

    public void Isolate(string name) => GetRegisteredCircuit(name).Isolate();

    public void Reset(string name) => GetRegisteredCircuit(name).Reset();

    private Circuit CreateCircuit(string clientName) =>
        new(clientName, CircuitPolicy.Create(_options.Get(clientName)), _timeProvider, _logger);

    /// <summary>
    /// Returns the circuit of a client that has a breaker, creating it so that an operator can isolate a client
    /// before its first request. An unknown name is rejected rather than given a circuit nothing would use.
    /// </summary>
    private Circuit GetRegisteredCircuit(string name)
    {
        ArgumentNullException.ThrowIfNull(name);

        if (_circuits.TryGetValue(name, out Circuit? circuit))
        {
            return circuit;
        }

        if (!_coversAllClients && !_clientNames.Contains(name))
        {
            string known = _clientNames.Count == 0 ? "none" : string.Join(", ", _clientNames.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
            throw new ArgumentException(
                $"No circuit breaker is registered for client '{name}'. Clients with a circuit breaker: {known}. " +
                $"Register one with services.AddHttpClient(\"{name}\").AddCircuitBreaker().",
                nameof(name));
        }

        return GetOrCreateCircuit(name);
    }
}
