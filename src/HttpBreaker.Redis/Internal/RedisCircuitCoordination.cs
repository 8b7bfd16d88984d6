using System.Diagnostics.Metrics;
using HttpBreaker.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// Shares the circuits of the clients registered with <c>ShareThroughRedis</c>, one <see cref="ClientFleet"/> per
/// client and one Redis connection per configuration string, for the lifetime of the service provider.
/// </summary>
internal sealed class RedisCircuitCoordination : ICircuitCoordination, IAsyncDisposable, IDisposable
{
    private readonly IOptionsMonitor<RedisFleetOptions> _options;
    private readonly HashSet<string> _sharedClients = new(StringComparer.Ordinal);
    private readonly IServiceProvider _services;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly FleetMetrics _metrics;
    private readonly string _instanceId;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClientFleet> _fleets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FleetConnection> _connections = new(StringComparer.Ordinal);
    private bool _disposed;

    public RedisCircuitCoordination(
        IOptionsMonitor<RedisFleetOptions> options,
        IEnumerable<RedisFleetRegistration> registrations,
        IServiceProvider services,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        _options = options;
        _services = services;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("HttpBreaker.Redis");
        _metrics = new FleetMetrics(meterFactory);
        _instanceId = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        foreach (RedisFleetRegistration registration in registrations)
        {
            _sharedClients.Add(registration.ClientName);
        }
    }

    /// <summary>Gets the instance id used by clients that set no <see cref="RedisFleetOptions.InstanceId"/>.</summary>
    public string DefaultInstanceId => _instanceId;

    /// <summary>
    /// Returns the client's fleet as its event sink, creating it on first use. Creating it reads the client's options,
    /// so invalid options raise <see cref="OptionsValidationException"/> here, as invalid breaker options do.
    /// </summary>
    public ICircuitEventSink GetEventSink(string clientName, ICircuitEventSink events)
    {
        if (!_sharedClients.Contains(clientName))
        {
            return events;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_fleets.TryGetValue(clientName, out ClientFleet? fleet))
            {
                RedisFleetOptions options = _options.Get(clientName);
                var scope = new FleetScope(options.InstanceId ?? _instanceId, options.KeyPrefix, FleetKeys.GetChannel(options.KeyPrefix), options.Quorum);
                fleet = new ClientFleet(clientName, events, GetConnection(options), scope, options.RefreshInterval, _timeProvider, _logger, _metrics);
                _fleets.Add(clientName, fleet);
            }

            return fleet;
        }
    }

    public void Attach(ClientCircuits client)
    {
        if (!_sharedClients.Contains(client.ClientName))
        {
            return;
        }

        ClientFleet? fleet;
        lock (_gate)
        {
            _fleets.TryGetValue(client.ClientName, out fleet);
        }

        fleet?.Attach(client);
    }

    public async ValueTask DisposeAsync()
    {
        ClientFleet[] fleets;
        FleetConnection[] connections;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            fleets = [.. _fleets.Values];
            connections = [.. _connections.Values];
        }

        foreach (ClientFleet fleet in fleets)
        {
            await fleet.DisposeAsync().ConfigureAwait(false);
        }

        foreach (FleetConnection connection in connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _metrics.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Returns the connection for the options' configuration string, or the registered one when it is not set. Callers hold the lock.</summary>
    private FleetConnection GetConnection(RedisFleetOptions options)
    {
        string key = string.IsNullOrWhiteSpace(options.Configuration) ? string.Empty : options.Configuration;
        if (!_connections.TryGetValue(key, out FleetConnection? connection))
        {
            connection = key.Length == 0
                ? FleetConnection.Use(_services.GetRequiredService<IConnectionMultiplexer>())
                : FleetConnection.Connect(key);
            _connections.Add(key, connection);
        }

        return connection;
    }
}
