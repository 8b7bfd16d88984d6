namespace HttpBreaker.Internal;

/// <summary>
/// Receives every state change of the circuits that report to it. Implementations must return quickly: they run
/// on the request path of the request that caused the change.
/// </summary>
internal interface ICircuitEventSink
{
    void OnTransition(Circuit circuit, CircuitState from, CircuitState to, CircuitTransitionReason reason, DateTimeOffset timestamp);
}
