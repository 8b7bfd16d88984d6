namespace HttpBreaker.Redis.Internal;

/// <summary>
/// Records that a client shares its circuits through Redis, one instance per <c>ShareThroughRedis</c> call.
/// </summary>
internal sealed record RedisFleetRegistration(string ClientName);
