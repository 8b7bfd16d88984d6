namespace HttpBreaker.Internal;

/// <summary>
/// Option defaults and allowed ranges, in one place for the options, their validation, docs and tests.
/// </summary>
internal static class CircuitBreakerDefaults
{
    public const int FailureThreshold = 5;
    public const int MinFailureThreshold = 1;

    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    /// <summary>The break must be positive: a zero break would turn every failure into a probe.</summary>
    public static readonly TimeSpan MinBreakDuration = TimeSpan.FromMilliseconds(1);

    /// <summary>A longer break is a manual isolation in disguise, which <c>Isolate</c> expresses directly.</summary>
    public static readonly TimeSpan MaxBreakDuration = TimeSpan.FromDays(1);
}
