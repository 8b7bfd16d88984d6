namespace HttpBreaker.Internal;

/// <summary>
/// An event sink that discards every change, for circuits that nothing observes.
/// </summary>
internal sealed class NullEventSink : ICircuitEventSink
{
    public static readonly NullEventSink Instance = new();

    public void OnTransition(Circuit circuit, CircuitState from, CircuitState to, CircuitTransitionReason reason, DateTimeOffset timestamp)
    {
    }
}
