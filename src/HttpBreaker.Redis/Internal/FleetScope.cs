using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// What every script call of one client needs besides the circuit name: who this instance is, where the keys live
/// and how many instances must trip to open the fleet.
/// </summary>
internal sealed record FleetScope(string InstanceId, string KeyPrefix, RedisChannel Channel, int Quorum);
