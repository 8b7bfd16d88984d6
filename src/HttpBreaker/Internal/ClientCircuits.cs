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

        return GetAuthorityUri(request) is { } uri ? $"{uri.Scheme}://{GetAuthorityHost(uri)}:{uri.Port}" : null;
    }

    /// <summary>
    /// Leases the partition circuit of a request, or returns <see langword="null"/> when the request has no key or the
    /// partitions are full of circuits that cannot be evicted; the client's own circuit serves it then.
    /// </summary>
    public PartitionEntry? LeasePartition(HttpRequestMessage request)
    {
        if (Policy.PartitionKey is not null)
        {
            return GetPartitionKey(request) is { } key ? Partitions!.Acquire(key) : null;
        }

        if (GetAuthorityUri(request) is not { } uri)
        {
            return null;
        }

        // The authority is written to the stack and looked up as characters, so a request to a known authority
        // allocates no key. The key string is made only for a new circuit or an authority too long for the buffer.
        Span<char> buffer = stackalloc char[256];
        return buffer.TryWrite($"{uri.Scheme}://{GetAuthorityHost(uri)}:{uri.Port}", out int length)
            ? Partitions!.Acquire(buffer[..length])
            : Partitions!.Acquire(GetPartitionKey(request)!);
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

    private Uri? GetAuthorityUri(HttpRequestMessage request) =>
        Policy.PartitionBy == PartitionBy.Authority && request.RequestUri is { IsAbsoluteUri: true } uri ? uri : null;

    /// <summary>
    /// Returns the host as the key spells it. <see cref="Uri.IdnHost"/> drops the brackets of an IPv6 literal, which
    /// would make "http://[::1]:80" and a host named "::1" look alike, so IPv6 hosts keep their bracketed form.
    /// </summary>
    private static string GetAuthorityHost(Uri uri) => uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost;

    public DateTimeOffset GetUtcNow() => _timeProvider.GetUtcNow();

    /// <summary>Reports an eviction. It runs while the evicted entry is still in the table, so it only queues the change.</summary>
    public void ReportEvicted(Circuit circuit, CircuitState state, DateTimeOffset timestamp) =>
        _events.OnTransition(circuit, state, CircuitState.Closed, CircuitTransitionReason.Evicted, timestamp);

    public void LogEvicted(Circuit circuit, CircuitState state) => Log.Evicted(_logger, ClientName, circuit.Name, state);
}
