namespace HttpBreaker.Internal;

/// <summary>
/// A closed circuit: the consecutive failure count and, when the ratio rule is on, the sliding window.
/// </summary>
internal sealed class ClosedPhase : CircuitPhase
{
    private int _consecutiveFailures;
    private RollingWindow? _window;

    public ClosedPhase(RollingWindow? window)
        : base(CircuitState.Closed, null, null)
    {
        _window = window;
    }

    /// <summary>Gets the sliding window of the ratio rule, or <see langword="null"/> when that rule is off.</summary>
    public RollingWindow? Window => Volatile.Read(ref _window);

    /// <summary>Swaps the window for one shaped by a reloaded policy; the consecutive count stays as it is.</summary>
    public void ReplaceWindow(RollingWindow? window) => Volatile.Write(ref _window, window);

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
