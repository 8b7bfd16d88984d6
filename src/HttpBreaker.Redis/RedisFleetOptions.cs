using HttpBreaker.Redis.Internal;

namespace HttpBreaker.Redis;

/// <summary>
/// Options that share the circuits of one client between the instances of an application through Redis, set with
/// <c>ShareThroughRedis</c>. Every instance of a fleet must use the same <see cref="KeyPrefix"/> and the same
/// circuit breaker options for the client.
/// </summary>
public sealed class RedisFleetOptions
{
    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string, such as <c>127.0.0.1:6379</c>.
    /// </summary>
    /// <value>
    /// Default <see langword="null"/>: the <c>IConnectionMultiplexer</c> registered in the service collection is
    /// used, and the options are invalid when none is registered. Clients with the same string share one connection.
    /// </value>
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets the text that starts every Redis key and the pub/sub channel, so that several fleets can share one
    /// Redis without seeing each other's circuits.
    /// </summary>
    /// <value>Default <c>httpbreaker</c>. It must be 1 to 100 characters without whitespace.</value>
    public string KeyPrefix { get; set; } = RedisFleetDefaults.KeyPrefix;

    /// <summary>
    /// Gets or sets how many distinct instances must trip within the client's <c>SamplingDuration</c> before the
    /// circuit opens on every instance.
    /// </summary>
    /// <value>
    /// Default 1: one trip opens the fleet. Range 1 to 1000. With 2 or more, one instance with a fault of its own opens
    /// only its own circuit.
    /// </value>
    public int Quorum { get; set; } = RedisFleetDefaults.Quorum;

    /// <summary>
    /// Gets or sets how often an instance reads the shared state of the circuits it uses. Pub/sub delivers changes at
    /// once; the refresh catches up on a message lost while the connection was down.
    /// </summary>
    /// <value>Default 5 seconds. Range 50 milliseconds to 1 hour.</value>
    public TimeSpan RefreshInterval { get; set; } = RedisFleetDefaults.RefreshInterval;

    /// <summary>
    /// Gets or sets the name under which this instance reports trips and holds the probe lease.
    /// </summary>
    /// <value>
    /// Default <see langword="null"/>: the machine name, the process id and a random suffix, new for each service
    /// provider. When set, it must be 1 to 200 characters and unique within the fleet.
    /// </value>
    public string? InstanceId { get; set; }
}
