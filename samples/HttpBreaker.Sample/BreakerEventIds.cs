namespace HttpBreaker.Sample;

/// <summary>
/// The event ids that the HttpBreaker library logs, which it keeps stable so that alerts can key on them.
/// </summary>
internal static class BreakerEventIds
{
    public const int Opened = 1;
    public const int ProbeFailed = 2;
    public const int HalfOpen = 3;
    public const int Closed = 4;
    public const int Isolated = 5;
    public const int Reset = 6;
    public const int OpenedByRatio = 8;
    public const int ProbeTimedOut = 9;
    public const int AttemptTimedOut = 10;
    public const int ClassifierFailed = 11;
}
