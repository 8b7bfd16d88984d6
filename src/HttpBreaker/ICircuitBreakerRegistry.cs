namespace HttpBreaker;

/// <summary>
/// The circuits of every client that has a circuit breaker, one per client name. Registered as a singleton, so
/// circuits outlive the handlers that <see cref="System.Net.Http.IHttpClientFactory"/> rotates.
/// </summary>
public interface ICircuitBreakerRegistry
{
    /// <summary>
    /// Finds the circuit of a client.
    /// </summary>
    /// <param name="name">The client name, as given to <c>AddHttpClient</c>.</param>
    /// <param name="snapshot">The circuit's current view, or <see langword="null"/> when none exists.</param>
    /// <returns>
    /// <see langword="true"/> when the client has a circuit. A circuit is created when its client is first
    /// created, or by <see cref="Isolate(string)"/> or <see cref="Reset(string)"/>.
    /// </returns>
    bool TryGetCircuit(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CircuitSnapshot? snapshot);

    /// <summary>
    /// Lists every circuit, ordered by name.
    /// </summary>
    /// <returns>One snapshot per circuit, each taken when this method ran.</returns>
    IReadOnlyList<CircuitSnapshot> GetCircuits();

    /// <summary>
    /// Holds a client's circuit open until <see cref="Reset(string)"/> is called: every request gets the
    /// synthetic 503 and no probe is sent.
    /// </summary>
    /// <param name="name">The client name.</param>
    /// <exception cref="ArgumentException">No circuit breaker is registered for <paramref name="name"/>.</exception>
    void Isolate(string name);

    /// <summary>
    /// Closes a client's circuit now and clears its failure count, from any state, isolated included.
    /// </summary>
    /// <param name="name">The client name.</param>
    /// <exception cref="ArgumentException">No circuit breaker is registered for <paramref name="name"/>.</exception>
    void Reset(string name);
}
