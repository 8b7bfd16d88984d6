namespace HttpBreaker.Internal;

/// <summary>
/// An event sink that passes every change on to another sink, so that code which needs a particular sink, such as
/// <see cref="CircuitTelemetry"/>, still finds it behind the wrapper.
/// </summary>
internal interface IForwardingEventSink
{
    ICircuitEventSink Next { get; }
}
