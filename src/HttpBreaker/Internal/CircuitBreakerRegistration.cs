namespace HttpBreaker.Internal;

/// <summary>
/// Records, in the service collection, one client that has a circuit breaker, or every client when
/// <see cref="ClientName"/> is <see langword="null"/>. The registry uses these to tell a client name it should
/// know from a mistyped one.
/// </summary>
internal sealed class CircuitBreakerRegistration(string? clientName)
{
    public string? ClientName { get; } = clientName;
}
