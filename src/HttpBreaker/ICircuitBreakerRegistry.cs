namespace HttpBreaker;

/// <summary>
/// The circuits of every client that has a circuit breaker: one per client name, plus one per partition of a
/// partitioned client. Registered as a singleton, so circuits outlive the handlers that
/// <see cref="System.Net.Http.IHttpClientFactory"/> rotates.
/// </summary>
public interface ICircuitBreakerRegistry
{
    /// <summary>
    /// Occurs after any circuit changes state, with the circuit, the states, the reason and the time.
    /// </summary>
    /// <remarks>
    /// Handlers run one at a time on a background task, in the order the changes happened, never on the request
    /// that caused the change, so a handler that throws or blocks cannot break or delay a request. An exception
    /// from a handler is logged. When handlers fall more than 10,000 changes behind, the oldest are dropped and the
    /// drop is logged.
    /// </remarks>
    event EventHandler<CircuitStateChangedEventArgs>? StateChanged;

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
    /// Finds the circuit of one partition of a client.
    /// </summary>
    /// <param name="clientName">The client name.</param>
    /// <param name="partitionKey">The partition key, or <see langword="null"/> for the client's own circuit.</param>
    /// <param name="snapshot">The circuit's current view, or <see langword="null"/> when none exists.</param>
    /// <returns><see langword="true"/> when the circuit exists.</returns>
    bool TryGetCircuit(string clientName, string? partitionKey, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CircuitSnapshot? snapshot);

    /// <summary>
    /// Lists every circuit, partitions included, ordered by name.
    /// </summary>
    /// <returns>One snapshot per circuit, each taken when this method ran.</returns>
    IReadOnlyList<CircuitSnapshot> GetCircuits();

    /// <summary>
    /// Holds every circuit of a client open until <see cref="Reset(string)"/> is called: every request gets the
    /// synthetic 503 and no probe is sent. Partitions that appear later start isolated too.
    /// </summary>
    /// <param name="name">The client name.</param>
    /// <exception cref="ArgumentException">No circuit breaker is registered for <paramref name="name"/>.</exception>
    void Isolate(string name);

    /// <summary>
    /// Closes every circuit of a client now and clears its failure counts, from any state, isolated included.
    /// </summary>
    /// <param name="name">The client name.</param>
    /// <exception cref="ArgumentException">No circuit breaker is registered for <paramref name="name"/>.</exception>
    void Reset(string name);

    /// <summary>
    /// Holds the circuit of one partition open until it is reset, creating the circuit when the partition has none.
    /// </summary>
    /// <param name="clientName">The client name.</param>
    /// <param name="partitionKey">The partition key, such as <c>https://api.github.com:443</c>.</param>
    /// <exception cref="ArgumentException">The client has no circuit breaker or is not partitioned.</exception>
    /// <exception cref="InvalidOperationException">The client's partitions are all isolated or busy at its bound.</exception>
    void Isolate(string clientName, string partitionKey);

    /// <summary>
    /// Closes the circuit of one partition now. A partition without a circuit is left as it is.
    /// </summary>
    /// <param name="clientName">The client name.</param>
    /// <param name="partitionKey">The partition key.</param>
    /// <exception cref="ArgumentException">The client has no circuit breaker or is not partitioned.</exception>
    void Reset(string clientName, string partitionKey);
}
