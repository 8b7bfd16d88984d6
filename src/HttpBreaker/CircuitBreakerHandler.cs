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

        if (!_circuit.TryAdmit(out Admission admission))
        {
            return Task.FromResult(Reject(request, admission.Phase));
        }

        if (_circuit.Policy.Timeout is { } timeout)
        {
            return SendWithTimeoutAsync(request, admission, timeout, cancellationToken);
        }

        Task<HttpResponseMessage> sending;
        try
        {
            sending = base.SendAsync(request, cancellationToken);
        }
        catch (Exception exception) when (RecordException(request, admission, exception, cancellationToken))
        {
            throw;
        }

        // When the inner handler has already finished, the same task goes back to the caller, so the closed path
        // allocates nothing of its own. Only a pending task needs the async method below.
        if (sending.IsCompletedSuccessfully)
        {
            RecordResponse(request, admission, sending.Result);
            return sending;
        }

        return ObserveAsync(request, sending, admission, cancellationToken);
    }

    /// <inheritdoc />
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        if (!_circuit.TryAdmit(out Admission admission))
        {
            return Reject(request, admission.Phase);
        }

        using CancellationTokenSource? timeoutSource = _circuit.Policy.Timeout is { } timeout ? new CancellationTokenSource(timeout, _circuit.TimeProvider) : null;
        using CancellationTokenSource? linkedSource = timeoutSource is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);

        HttpResponseMessage response;
        try
        {
            response = base.Send(request, linkedSource?.Token ?? cancellationToken);
        }
        catch (OperationCanceledException exception) when (IsBreakerTimeout(timeoutSource, cancellationToken))
        {
            throw RecordTimeout(admission, exception);
        }
        catch (Exception exception) when (RecordException(request, admission, exception, cancellationToken))
        {
            throw;
        }

        RecordResponse(request, admission, response);
        return response;
    }

    private async Task<HttpResponseMessage> ObserveAsync(HttpRequestMessage request, Task<HttpResponseMessage> sending, Admission admission, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await sending.ConfigureAwait(false);
        }
        catch (Exception exception) when (RecordException(request, admission, exception, cancellationToken))
        {
            throw;
        }

        RecordResponse(request, admission, response);
        return response;
    }

    private async Task<HttpResponseMessage> SendWithTimeoutAsync(HttpRequestMessage request, Admission admission, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The timer runs on the circuit's TimeProvider, so tests advance a fake clock instead of waiting.
        using var timeoutSource = new CancellationTokenSource(timeout, _circuit.TimeProvider);
        using var linkedSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);

        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, linkedSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (IsBreakerTimeout(timeoutSource, cancellationToken))
        {
            throw RecordTimeout(admission, exception);
        }
        catch (Exception exception) when (RecordException(request, admission, exception, cancellationToken))
        {
            throw;
        }

        RecordResponse(request, admission, response);
        return response;
    }

    private static bool IsBreakerTimeout(CancellationTokenSource? timeoutSource, CancellationToken callerToken) =>
        timeoutSource is { IsCancellationRequested: true } && !callerToken.IsCancellationRequested;

    /// <summary>
    /// Records a breaker timeout as a failure and builds the exception that <see cref="HttpClient.Timeout"/> would
    /// have thrown, so callers handle both the same way.
    /// </summary>
    private TaskCanceledException RecordTimeout(in Admission admission, OperationCanceledException cancellation)
    {
        _circuit.Record(admission, CircuitBreakerOutcome.Failure);

        TimeSpan timeout = _circuit.Policy.Timeout.GetValueOrDefault();
        Log.AttemptTimedOut(_logger, _circuit.Name, timeout);
        string message = $"The request was canceled due to the configured CircuitBreakerOptions.Timeout of {timeout.TotalSeconds} seconds elapsing.";
        return new TaskCanceledException(message, new TimeoutException(message, cancellation));
    }

    private void RecordResponse(HttpRequestMessage request, in Admission admission, HttpResponseMessage? response)
    {
        if (response is null)
        {
            // A null response comes from a broken handler below this one. HttpClient reports it to the caller, and
            // it is no evidence about the upstream.
            _circuit.RecordCancelled(admission);
            return;
        }

        CircuitBreakerOutcome outcome = OutcomeClassifier.Classify(_circuit, _logger, request, response);
        outcome = OutcomeClassifier.ApplySlowCallRule(_circuit, admission, outcome);

        TimeSpan? retryAfter = outcome == CircuitBreakerOutcome.Failure && _circuit.Policy.HonorRetryAfter
            ? OutcomeClassifier.GetRetryAfter(response, _circuit.TimeProvider)
            : null;
        _circuit.Record(admission, outcome, retryAfter);
    }

    /// <summary>
    /// Records an exception from the inner handler and returns <see langword="false"/>, so that the exception
    /// filter that calls it lets the same exception instance reach the caller with its stack trace intact.
    /// </summary>
    private bool RecordException(HttpRequestMessage request, in Admission admission, Exception exception, CancellationToken cancellationToken)
    {
        // NOTE: HttpClient.Timeout cancels through the token that reaches this handler, so a request that runs into
        // the client's timeout looks like the caller's own cancellation and does not count. CircuitBreakerOptions.Timeout
        // is the timeout that counts.
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            _circuit.RecordCancelled(admission);
            return false;
        }

        CircuitBreakerOutcome outcome = OutcomeClassifier.Classify(_circuit, _logger, request, exception);
        _circuit.Record(admission, OutcomeClassifier.ApplySlowCallRule(_circuit, admission, outcome));
        return false;
    }

    private HttpResponseMessage Reject(HttpRequestMessage request, CircuitPhase phase)
    {
        Log.Rejected(_logger, _circuit.Name, phase.State);

        return RejectionResponse.Create(request, _circuit, phase);
    }
}
