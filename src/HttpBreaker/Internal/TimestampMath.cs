namespace HttpBreaker.Internal;

/// <summary>
/// Conversions between durations and <see cref="TimeProvider.GetTimestamp"/> ticks.
/// </summary>
internal static class TimestampMath
{
    /// <summary>
    /// Converts a duration to timestamp ticks in integer arithmetic: a floating-point product can land one tick
    /// short, and a break would then end one tick before its wall-clock end.
    /// </summary>
    public static long ToTimestampTicks(this TimeProvider timeProvider, TimeSpan duration) =>
        (long)((Int128)duration.Ticks * timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);
}
