namespace HttpBreaker.Internal;

/// <summary>
/// Shares the circuits of some clients with other instances of the application. The registry calls it for each
/// client it creates circuits for, so a client it does not cover keeps purely local circuits.
/// </summary>
internal interface ICircuitCoordination
{
    /// <summary>
    /// Returns the sink that the circuits of a client report to: <paramref name="events"/> itself for a client that
    /// is not shared, or a sink that forwards every change to it. A sink that also implements
    /// <see cref="ICircuitProbeGate"/> decides when those circuits may probe.
    /// </summary>
    /// <remarks>Called again for the same client when racing requests create its circuits at once.</remarks>
    ICircuitEventSink GetEventSink(string clientName, ICircuitEventSink events);

    /// <summary>Starts sharing the circuits of a client once the registry has stored them. A second call has no effect.</summary>
    void Attach(ClientCircuits client);
}
