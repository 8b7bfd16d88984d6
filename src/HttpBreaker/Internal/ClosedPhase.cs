namespace HttpBreaker.Internal;

/// <summary>
/// A closed circuit: the consecutive failure count and, when the ratio rule is on, the sliding window.
/// </summary>
internal sealed class ClosedPhase : CircuitPhase
{
    private int _consecutiveFailures;

    public ClosedPhase(RollingWindow? window)
        : base(CircuitState.Closed, null, null)
    {
        Window = window;
    }

    public RollingWindow? Window { get; }

    public override int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    public int AddFailure() => Interlocked.Increment(ref _consecutiveFailures);

    /// <summary>
    /// Clears the failure count. The read first keeps a stream of successes from writing to, and so contending
    /// for, a cache line that every request reads.
    /// </summary>
    public void ResetFailures()
    {
        if (Volatile.Read(ref _consecutiveFailures) != 0)
        {
            Volatile.Write(ref _consecutiveFailures, 0);
        }
    }
}
