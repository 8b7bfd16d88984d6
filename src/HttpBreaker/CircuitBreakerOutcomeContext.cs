namespace HttpBreaker;

/// <summary>
/// The result of one request, as passed to <see cref="CircuitBreakerOptions.ClassifyOutcome"/>.
/// </summary>
public readonly struct CircuitBreakerOutcomeContext
{
    internal CircuitBreakerOutcomeContext(string clientName, HttpRequestMessage request, HttpResponseMessage? response, Exception? exception)
    {
        ClientName = clientName;
        Request = request;
        Response = response;
        Exception = exception;
    }

    /// <summary>Gets the name of the client whose circuit records the outcome.</summary>
    public string ClientName { get; }

    /// <summary>Gets the request that was sent.</summary>
    public HttpRequestMessage Request { get; }

    /// <summary>Gets the response, or <see langword="null"/> when the inner handler threw.</summary>
    public HttpResponseMessage? Response { get; }

    /// <summary>
    /// Gets the exception that the inner handler threw, or <see langword="null"/> when it returned a response. The
    /// caller's own cancellation never reaches the classifier: it is never a failure.
    /// </summary>
    public Exception? Exception { get; }
}
