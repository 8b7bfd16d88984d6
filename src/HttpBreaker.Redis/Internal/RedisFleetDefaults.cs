namespace HttpBreaker.Redis.Internal;

/// <summary>
/// Defaults and allowed ranges of <see cref="RedisFleetOptions"/>, in one place for the options, their validation and tests.
/// </summary>
internal static class RedisFleetDefaults
{
    public const string KeyPrefix = "httpbreaker";
    public const int MaxKeyPrefixLength = 100;

    public const int Quorum = 1;
    public const int MaxQuorum = 1000;

    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan MaxRefreshInterval = TimeSpan.FromHours(1);

    public const int MaxInstanceIdLength = 200;

    /// <summary>How long the state of a closed circuit stays in Redis after its last change; an absent state reads as closed.</summary>
    public static readonly TimeSpan ClosedStateLifetime = TimeSpan.FromDays(1);

    /// <summary>The name of the meter that counts coordination failures.</summary>
    public const string MeterName = "HttpBreaker.Redis";
}
