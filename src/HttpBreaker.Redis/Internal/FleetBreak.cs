namespace HttpBreaker.Redis.Internal;

/// <summary>
/// A break that a local circuit computed when it opened, with its jitter and any <c>Retry-After</c> applied, sent so
/// that the fleet opens for the same length.
/// </summary>
internal readonly record struct FleetBreak(TimeSpan Break, TimeSpan BaseBreak, int ConsecutiveFailures, CircuitTransitionReason Reason);
