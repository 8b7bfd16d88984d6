namespace HttpBreaker.Internal;

/// <summary>
/// Option defaults and allowed ranges, in one place for the options, their validation, docs and tests.
/// </summary>
internal static class CircuitBreakerDefaults
{
    public const int FailureThreshold = 5;
    public const int MinFailureThreshold = 1;

    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    /// <summary>The smallest duration any duration option accepts: zero would turn every failure into a probe.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// The largest duration any duration option accepts. A longer break is a manual isolation in disguise, which
    /// <c>Isolate</c> expresses directly.
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    public const double MinFailureRatio = 0;
    public const double MaxFailureRatio = 1;

    public static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(30);

    /// <summary>The shortest window: each of its buckets must still span at least one millisecond.</summary>
    public static readonly TimeSpan MinSamplingDuration = TimeSpan.FromMilliseconds(WindowBuckets);

    /// <summary>How many buckets the sampling window is split into; outcomes age out one bucket at a time.</summary>
    public const int WindowBuckets = 10;

    public const int MinimumThroughput = 100;
    public const int MinMinimumThroughput = 2;

    public const string FailureStatusCodes = "500-599";

    public const bool HonorRetryAfter = true;

    /// <summary>The cap on a break when <c>MaxBreakDuration</c> is not set, unless <c>BreakDuration</c> is longer.</summary>
    public static readonly TimeSpan MaxBreakDuration = TimeSpan.FromMinutes(5);

    public const double BreakDurationMultiplier = 1;
    public const double MaxBreakDurationMultiplier = 100;

    public const double BreakDurationJitter = 0;
    public const double MaxBreakDurationJitter = 1;

    public const int PermittedProbes = 1;
    public const int MaxPermittedProbes = 1000;

    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);

    public const int MaxPartitions = 1024;
    public const int MaxMaxPartitions = 1_000_000;

    public static readonly TimeSpan PartitionIdleTimeout = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan MinPartitionIdleTimeout = TimeSpan.FromSeconds(1);
}
