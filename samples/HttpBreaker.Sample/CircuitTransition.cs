namespace HttpBreaker.Sample;

/// <summary>
/// One state change of a circuit, taken from the breaker's log.
/// </summary>
/// <param name="State">The state the circuit moved to.</param>
/// <param name="Description">A short account of the change, such as "circuit opened after 3 consecutive failures".</param>
internal sealed record CircuitTransition(CircuitState State, string Description);
