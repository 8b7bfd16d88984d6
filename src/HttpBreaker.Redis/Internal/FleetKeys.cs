using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// The Redis keys of one shared circuit. The circuit name is a Redis Cluster hash tag, so every key of a circuit
/// lands in one slot and a script may update them together.
/// </summary>
internal sealed class FleetKeys
{
    public FleetKeys(string prefix, string circuitName)
    {
        // Every key starts with the same "prefix:{name" text, so whichever braces Redis reads as the hash tag, even
        // braces inside the prefix or the name, they are the same for all three keys.
        string root = $"{prefix}:{{{circuitName}}}";
        All = [$"{root}:state", $"{root}:trips", $"{root}:probe"];
    }

    /// <summary>Gets the state hash, the sorted set of recent trips by instance, and the probe lease, in the order the scripts expect.</summary>
    public RedisKey[] All { get; }

    public static RedisChannel GetChannel(string prefix) => RedisChannel.Literal($"{prefix}:changes");
}
