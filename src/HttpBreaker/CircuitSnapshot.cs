namespace HttpBreaker;

/// <summary>
/// A point-in-time view of one circuit, as returned by <see cref="ICircuitBreakerRegistry"/>.
/// </summary>
public sealed record CircuitSnapshot
{
    /// <summary>
    /// Gets the circuit name: the name of the <see cref="HttpClient"/> it protects, or <c>client/partition</c>
    /// for a partition.
    /// </summary>
    public required string Name { get; init; }

    /// <summary>Gets the name of the client the circuit belongs to.</summary>
    public required string ClientName { get; init; }

    /// <summary>Gets the partition key, or <see langword="null"/> for the client's own circuit.</summary>
    public string? PartitionKey { get; init; }

    /// <summary>Gets the state of the circuit when the snapshot was taken.</summary>
    /// <remarks>
    /// An <see cref="CircuitState.Open"/> circuit whose <see cref="NextProbeAt"/> has passed stays open until a
    /// request arrives: that request becomes the probe and moves the circuit to <see cref="CircuitState.HalfOpen"/>.
    /// </remarks>
    public required CircuitState State { get; init; }

    /// <summary>
    /// Gets the number of failures recorded since the last success while closed, reset, or close. A failed or
    /// timed-out probe adds one; a successful probe that does not close the circuit leaves it as it is.
    /// </summary>
    public required int ConsecutiveFailures { get; init; }

    /// <summary>Gets when the circuit opened or was isolated, or <see langword="null"/> while it is closed.</summary>
    public DateTimeOffset? OpenedAt { get; init; }

    /// <summary>
    /// Gets when an open circuit lets the next probe through, or <see langword="null"/> when it is closed,
    /// half-open (a probe is in flight) or isolated (no probe until reset).
    /// </summary>
    public DateTimeOffset? NextProbeAt { get; init; }
}
