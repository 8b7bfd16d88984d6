using HttpBreaker.Internal;
using Microsoft.Extensions.Logging;

namespace HttpBreaker;

/// <summary>
/// A <see cref="DelegatingHandler"/> that sends requests through the circuit of its client. While the circuit is
/// closed it only observes: every response and exception reaches the caller unchanged. While it is open it
/// sends nothing and returns a synthetic <c>503 Service Unavailable</c> instead of throwing.
/// </summary>
/// <remarks>
/// Instances are created by <c>AddCircuitBreaker</c>. The handler keeps no state of its own: the circuit lives in
/// <see cref="ICircuitBreakerRegistry"/>, so a handler rotated by <see cref="IHttpClientFactory"/> shares it with
/// its successor.
/// </remarks>
public sealed class CircuitBreakerHandler : DelegatingHandler
{
    /// <summary>
    /// The response header that marks a synthetic 503 produced by the breaker. Its value is the circuit state:
    /// <c>open</c>, <c>half-open</c> or <c>isolated</c>.
    /// </summary>
    public const string RejectionHeaderName = RejectionResponse.HeaderName;

    private readonly Circuit _circuit;
    private readonly ILogger _logger;

    internal CircuitBreakerHandler(Circuit circuit, ILogger logger)
    {
        _circuit = circuit;
        _logger = logger;
    }

    /// <summary>
    /// Tells whether a response is a synthetic 503 from a circuit breaker rather than one from the upstream.
    /// </summary>
    /// <param name="response">The response to inspect.</param>
    /// <returns><see langword="true"/> when the breaker produced the response without sending the request.</returns>
    public static bool IsRejection(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);

        return RejectionResponse.IsRejection(response);
    }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        if (!_circuit.TryAdmit(out CircuitPhase phase))
        {
            return Task.FromResult(Reject(request, phase));
        }

        Task<HttpResponseMessage> sending;
        try
        {
            sending = base.SendAsync(request, cancellationToken);
        }
        catch (Exception exception) when (RecordException(phase, exception, cancellationToken))
        {
            throw;
        }

        // When the inner handler has already finished, the same task goes back to the caller, so the closed path
        // allocates nothing of its own. Only a pending task needs the async method below.
        if (sending.IsCompletedSuccessfully)
        {
            _circuit.RecordResponse(phase, sending.Result);
            return sending;
        }

        return ObserveAsync(sending, phase, cancellationToken);
    }

    /// <inheritdoc />
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        if (!_circuit.TryAdmit(out CircuitPhase phase))
        {
            return Reject(request, phase);
        }

        HttpResponseMessage response;
        try
        {
            response = base.Send(request, cancellationToken);
        }
        catch (Exception exception) when (RecordException(phase, exception, cancellationToken))
        {
            throw;
        }

        _circuit.RecordResponse(phase, response);
        return response;
    }

    private async Task<HttpResponseMessage> ObserveAsync(Task<HttpResponseMessage> sending, CircuitPhase phase, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await sending.ConfigureAwait(false);
        }
        catch (Exception exception) when (RecordException(phase, exception, cancellationToken))
        {
            throw;
        }

        _circuit.RecordResponse(phase, response);
        return response;
    }

    /// <summary>
    /// Records an exception from the inner handler and returns <see langword="false"/>, so that the exception
    /// filter that calls it lets the same exception instance reach the caller with its stack trace intact.
    /// </summary>
    private bool RecordException(CircuitPhase phase, Exception exception, CancellationToken cancellationToken)
    {
        // NOTE: HttpClient.Timeout cancels through the token that reaches this handler, so a request that runs
        // into the client's timeout looks like the caller's own cancellation and does not count as a failure.
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            _circuit.RecordCancelled(phase);
        }
        else
        {
            _circuit.RecordFailure(phase);
        }

        return false;
    }

    private HttpResponseMessage Reject(HttpRequestMessage request, CircuitPhase phase)
    {
        Log.Rejected(_logger, _circuit.Name, phase.State);

        return RejectionResponse.Create(request, _circuit, phase);
    }
}
