namespace HttpBreaker.HealthChecks;

/// <summary>
/// One circuit that is not closed, as stored in the data of the circuit breaker health check under the circuit's
/// name. Every property is a string, a number, a date or <see langword="null"/>, so the entry serializes to plain
/// JSON without a custom converter.
/// </summary>
/// <remarks>
/// Health check data is typed as <see cref="object"/>, so an application compiled with Native AOT that serializes it
/// with a source-generated <c>JsonSerializerContext</c> must list this type in that context.
/// </remarks>
public sealed record CircuitHealthEntry
{
    /// <summary>Gets the circuit name: the client name, or <c>client/partition</c> for a partition.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the name of the client that the circuit belongs to.</summary>
    public required string ClientName { get; init; }

    /// <summary>Gets the partition key, or <see langword="null"/> for the client's own circuit.</summary>
    public string? PartitionKey { get; init; }

    /// <summary>
    /// Gets the state of the circuit: <c>open</c>, <c>half-open</c> or <c>isolated</c>, the same words as the
    /// <c>HttpBreaker-Rejected</c> header of a synthetic 503.
    /// </summary>
    public required string State { get; init; }

    /// <summary>Gets when the circuit opened or was isolated.</summary>
    public DateTimeOffset? OpenedAt { get; init; }

    /// <summary>
    /// Gets when the open circuit lets the next probe through, or <see langword="null"/> while it is half-open
    /// (a probe is in flight) or isolated (no probe until it is reset).
    /// </summary>
    public DateTimeOffset? NextProbeAt { get; init; }

    /// <summary>Gets the number of failures recorded since the circuit last closed or had a success.</summary>
    public required int ConsecutiveFailures { get; init; }
}
