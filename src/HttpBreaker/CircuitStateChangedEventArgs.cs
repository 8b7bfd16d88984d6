namespace HttpBreaker;

/// <summary>
/// One state change of one circuit, as reported by <see cref="ICircuitBreakerRegistry.StateChanged"/>.
/// </summary>
public sealed class CircuitStateChangedEventArgs : EventArgs
{
    internal CircuitStateChangedEventArgs(string circuitName, string clientName, string? partitionKey, CircuitState from, CircuitState to, CircuitTransitionReason reason, DateTimeOffset timestamp)
    {
        CircuitName = circuitName;
        ClientName = clientName;
        PartitionKey = partitionKey;
        From = from;
        To = to;
        Reason = reason;
        Timestamp = timestamp;
    }

    /// <summary>Gets the circuit name: the client name, or <c>client/partition</c> for a partition.</summary>
    public string CircuitName { get; }

    /// <summary>Gets the name of the client the circuit belongs to.</summary>
    public string ClientName { get; }

    /// <summary>Gets the partition key, or <see langword="null"/> for the client's own circuit.</summary>
    public string? PartitionKey { get; }

    /// <summary>Gets the state before the change.</summary>
    public CircuitState From { get; }

    /// <summary>Gets the state after the change. An evicted circuit is reported as closed, as its next request finds it.</summary>
    public CircuitState To { get; }

    /// <summary>Gets why the state changed.</summary>
    public CircuitTransitionReason Reason { get; }

    /// <summary>Gets when the change happened, read from the registry's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset Timestamp { get; }
}
