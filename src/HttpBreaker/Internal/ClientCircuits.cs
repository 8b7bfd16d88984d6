using Microsoft.Extensions.Logging;

namespace HttpBreaker.Internal;

/// <summary>
/// Every circuit of one client: its own circuit and, when the client is partitioned, the table of partition
/// circuits. They share one policy.
/// </summary>
internal sealed class ClientCircuits
{
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ICircuitEventSink _events;
    private volatile bool _isolated;
    private CircuitPolicy _policy;

    public ClientCircuits(string clientName, CircuitPolicy policy, TimeProvider timeProvider, ILogger logger, ICircuitEventSink events)
    {
        ClientName = clientName;
        _policy = policy;
        _timeProvider = timeProvider;
        _logger = logger;
        _events = events;
        Telemetry = events as CircuitTelemetry ?? (events as IForwardingEventSink)?.Next as CircuitTelemetry;
        ClientCircuit = new Circuit(clientName, partitionKey: null, policy, timeProvider, logger, events);
        Partitions = policy.IsPartitioned ? new PartitionTable(this, timeProvider) : null;
    }

    /// <summary>Wraps a single circuit built outside the registry, for tests that drive a handler directly.</summary>
    public ClientCircuits(Circuit circuit)
    {
        ClientName = circuit.ClientName;
        _policy = circuit.Policy;
        _timeProvider = circuit.TimeProvider;
        _logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _events = NullEventSink.Instance;
        ClientCircuit = circuit;
    }

    public string ClientName { get; }

    /// <summary>Gets where the client's requests are counted, or <see langword="null"/> for a circuit built outside the registry.</summary>
    public CircuitTelemetry? Telemetry { get; }

    /// <summary>Gets the policy that new circuits of this client start with.</summary>
    public CircuitPolicy Policy => Volatile.Read(ref _policy);

    /// <summary>Gets the circuit of the client itself, used when it is not partitioned or a request has no key.</summary>
    public Circuit ClientCircuit { get; }

    public PartitionTable? Partitions { get; }

    public IEnumerable<Circuit> AllCircuits =>
        Partitions is null ? [ClientCircuit] : Partitions.Entries.Select(entry => entry.Circuit).Prepend(ClientCircuit);

    /// <summary>
    /// Returns the partition key of a request, or <see langword="null"/> for the client's own circuit.
    /// </summary>
    public string? GetPartitionKey(HttpRequestMessage request)
    {
        CircuitPolicy policy = Policy;
        if (policy.PartitionKey is { } custom)
        {
            return custom(request);
        }

        if (policy.PartitionBy != PartitionBy.Authority || request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return null;
        }

        // IdnHost drops the brackets of an IPv6 literal, which would make "http://[::1]:80" and a host named "::1"
        // look alike, so IPv6 hosts keep their bracketed form.
        // NOTE: the authority string is built for every request; a per-URI cache would make this path allocation-free.
        string host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;
        return $"{uri.Scheme}://{host}:{uri.Port}";
    }

    /// <summary>
    /// Creates a partition circuit, isolated at once when the whole client is isolated, so that isolation covers
    /// keys that arrive after it.
    /// </summary>
    public Circuit CreatePartitionCircuit(string key, out bool isolated)
    {
        var circuit = new Circuit(ClientName, key, Policy, _timeProvider, _logger, _events);
        isolated = _isolated;
        if (isolated)
        {
            circuit.Isolate();
        }

        return circuit;
    }

    /// <summary>
    /// Brings a circuit about to join the table in line with an <see cref="IsolateAll"/>, <see cref="ResetAll"/> or
    /// <see cref="UpdatePolicy"/> that ran while it was being created: such a call swept the table before the
    /// circuit was in it. Callers hold <see cref="IsolationGate"/>.
    /// </summary>
    public void MatchClient(Circuit circuit, bool createdIsolated)
    {
        CircuitPolicy policy = Policy;
        if (!ReferenceEquals(circuit.Policy, policy))
        {
            circuit.UpdatePolicy(policy);
        }

        bool isolated = _isolated;
        if (isolated && !createdIsolated)
        {
            circuit.Isolate();
        }
        else if (!isolated && createdIsolated)
        {
            circuit.Reset();
        }
    }

    /// <summary>
    /// Gets the lock that makes a client-wide isolation change, a policy change and the addition of a partition
    /// exclusive.
    /// </summary>
    public Lock IsolationGate { get; } = new();

    /// <summary>
    /// Hands a reloaded policy to every circuit of the client and to the partition table, keeping each circuit's
    /// state. The caller keeps the partitioning as it was: the table cannot change its keys while running.
    /// </summary>
    public void UpdatePolicy(CircuitPolicy policy)
    {
        lock (IsolationGate)
        {
            Volatile.Write(ref _policy, policy);
            Partitions?.UpdateLimits(policy);
            foreach (Circuit circuit in AllCircuits)
            {
                circuit.UpdatePolicy(policy);
            }
        }
    }

    public void IsolateAll()
    {
        lock (IsolationGate)
        {
            _isolated = true;
            foreach (Circuit circuit in AllCircuits)
            {
                circuit.Isolate();
            }
        }
    }

    public void ResetAll()
    {
        lock (IsolationGate)
        {
            _isolated = false;
            foreach (Circuit circuit in AllCircuits)
            {
                circuit.Reset();
            }
        }
    }

    public DateTimeOffset GetUtcNow() => _timeProvider.GetUtcNow();

    /// <summary>Reports an eviction. It runs while the evicted entry is still in the table, so it only queues the change.</summary>
    public void ReportEvicted(Circuit circuit, CircuitState state, DateTimeOffset timestamp) =>
        _events.OnTransition(circuit, state, CircuitState.Closed, CircuitTransitionReason.Evicted, timestamp);

    public void LogEvicted(Circuit circuit, CircuitState state) => Log.Evicted(_logger, ClientName, circuit.Name, state);
}
