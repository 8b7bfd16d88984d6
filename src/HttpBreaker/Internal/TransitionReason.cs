namespace HttpBreaker.Internal;

/// <summary>
/// Why a circuit changed state.
/// </summary>
internal enum TransitionReason
{
    FailureThreshold,
    FailureRatio,
    BreakElapsed,
    ProbeSucceeded,
    ProbeFailed,
    ProbeTimedOut,
    Isolated,
    Reset,
}
