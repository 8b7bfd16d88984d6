namespace HttpBreaker.ProxySample;

/// <summary>
/// One circuit as <c>GET /circuits</c> returns it, with the state spelled as in the <c>HttpBreaker-Rejected</c>
/// header: <c>closed</c>, <c>open</c>, <c>half-open</c> or <c>isolated</c>.
/// </summary>
public sealed record CircuitView(
    string Name,
    string ClientName,
    string? PartitionKey,
    string State,
    int ConsecutiveFailures,
    DateTimeOffset? OpenedAt,
    DateTimeOffset? NextProbeAt)
{
    /// <summary>Creates the view of a snapshot from <see cref="ICircuitBreakerRegistry"/>.</summary>
    public static CircuitView From(CircuitSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);

        string state = snapshot.State switch
        {
            CircuitState.Open => "open",
            CircuitState.HalfOpen => "half-open",
            CircuitState.Isolated => "isolated",
            _ => "closed",
        };
        return new CircuitView(
            snapshot.Name,
            snapshot.ClientName,
            snapshot.PartitionKey,
            state,
            snapshot.ConsecutiveFailures,
            snapshot.OpenedAt,
            snapshot.NextProbeAt);
    }
}
