namespace HttpBreaker.ProxySample;

/// <summary>
/// The operator endpoints: <c>GET /circuits</c> lists every circuit, and <c>POST /circuits/{client}/isolate</c> and
/// <c>POST /circuits/{client}/reset</c> act on every circuit of a client, or on one partition with
/// <c>?partition=KEY</c>.
/// </summary>
/// <remarks>
/// The partition key goes in the query because keys such as <c>https://api.example:443</c> contain <c>/</c>, which
/// a route segment cannot carry. Each successful action returns the circuits it changed, as they are afterwards.
/// </remarks>
internal static class CircuitEndpoints
{
    public static void Map(RouteGroupBuilder circuits)
    {
        circuits.MapGet("/", (ICircuitBreakerRegistry registry) => registry.GetCircuits().Select(CircuitView.From).ToList());
        circuits.MapPost("/{client}/isolate", Isolate);
        circuits.MapPost("/{client}/reset", Reset);
    }

    private static IResult Isolate(string client, string? partition, ICircuitBreakerRegistry registry)
    {
        if (partition is { Length: 0 })
        {
            return ProxyProblems.EmptyPartition();
        }

        try
        {
            if (partition is null)
            {
                registry.Isolate(client);
            }
            else
            {
                registry.Isolate(client, partition);
            }
        }
        catch (ArgumentException exception)
        {
            // The registry raises this for a client without a breaker and for a partition of an unpartitioned client.
            return ProxyProblems.CircuitNotFound(exception.Message);
        }
        catch (InvalidOperationException exception)
        {
            return ProxyProblems.PartitionsFull(exception.Message);
        }

        return Results.Ok(GetCircuits(registry, client, partition));
    }

    private static IResult Reset(string client, string? partition, ICircuitBreakerRegistry registry)
    {
        if (partition is { Length: 0 })
        {
            return ProxyProblems.EmptyPartition();
        }

        try
        {
            if (partition is null)
            {
                registry.Reset(client);
            }
            else
            {
                registry.Reset(client, partition);
            }
        }
        catch (ArgumentException exception)
        {
            return ProxyProblems.CircuitNotFound(exception.Message);
        }

        // Resetting a partition that has no circuit changes nothing, and the caller probably mistyped the key.
        List<CircuitView> circuits = GetCircuits(registry, client, partition);
        return partition is not null && circuits.Count == 0
            ? ProxyProblems.CircuitNotFound($"Client '{client}' has no circuit for partition '{partition}'. GET /circuits lists the partitions that have one.")
            : Results.Ok(circuits);
    }

    private static List<CircuitView> GetCircuits(ICircuitBreakerRegistry registry, string client, string? partition) =>
        registry.GetCircuits()
            .Where(circuit => circuit.ClientName == client && (partition is null || circuit.PartitionKey == partition))
            .Select(CircuitView.From)
            .ToList();
}
