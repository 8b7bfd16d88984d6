namespace HttpBreaker.Internal;

/// <summary>
/// Why a circuit changed state.
/// </summary>
internal enum TransitionReason
{
    FailureThreshold,
    BreakElapsed,
    ProbeSucceeded,
    ProbeFailed,
    Isolated,
    Reset,
}
