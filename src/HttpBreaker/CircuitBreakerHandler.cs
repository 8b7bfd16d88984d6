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

    private readonly ClientCircuits _client;
    private readonly ILogger _logger;
    private readonly CircuitTelemetry? _telemetry;

    internal CircuitBreakerHandler(ClientCircuits client, ILogger logger)
    {
        _client = client;
        _logger = logger;
        _telemetry = client.Telemetry;
    }

    internal CircuitBreakerHandler(Circuit circuit, ILogger logger)
        : this(new ClientCircuits(circuit), logger)
    {
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

        if (_client.Partitions is null)
        {
            return SendThroughAsync(_client.ClientCircuit, request, cancellationToken);
        }

        PartitionEntry? entry = Lease(request);
        return entry is null
            ? SendThroughAsync(_client.ClientCircuit, request, cancellationToken)
            : SendLeasedAsync(entry, request, cancellationToken);
    }

    /// <inheritdoc />
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);

        PartitionEntry? entry = _client.Partitions is null ? null : Lease(request);
        if (entry is null)
        {
            return SendThrough(_client.ClientCircuit, request, cancellationToken);
        }

        try
        {
            return SendThrough(entry.Circuit, request, cancellationToken);
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>
    /// Leases the partition circuit of a request, or returns <see langword="null"/> when the request has no key or
    /// the client's partitions are full of circuits that cannot be evicted; the client's own circuit serves it then.
    /// </summary>
    private PartitionEntry? Lease(HttpRequestMessage request) =>
        _client.GetPartitionKey(request) is { } key ? _client.Partitions!.Acquire(key) : null;

    private async Task<HttpResponseMessage> SendLeasedAsync(PartitionEntry entry, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // The lease lasts until the outcome is recorded, so eviction cannot drop the circuit in between.
        try
        {
            return await SendThroughAsync(entry.Circuit, request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            entry.Release();
        }
    }

    private Task<HttpResponseMessage> SendThroughAsync(Circuit circuit, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!circuit.TryAdmit(out Admission admission))
        {
            return Task.FromResult(Reject(circuit, request, admission.Phase));
        }

        CircuitTelemetry.RecordAdmitted(circuit);

        if (circuit.Policy.Timeout is { } timeout)
        {
            return SendWithTimeoutAsync(circuit, request, admission, timeout, cancellationToken);
        }

        Task<HttpResponseMessage> sending;
        try
        {
            sending = base.SendAsync(request, cancellationToken);
        }
        catch (Exception exception) when (RecordException(circuit, request, admission, exception, cancellationToken))
        {
            throw;
        }

        // When the inner handler has already finished, the same task goes back to the caller, so the closed path
        // allocates nothing of its own. Only a pending task needs the async method below.
        if (sending.IsCompletedSuccessfully)
        {
            RecordResponse(circuit, request, admission, sending.Result);
            return sending;
        }

        return ObserveAsync(circuit, request, sending, admission, cancellationToken);
    }

    private HttpResponseMessage SendThrough(Circuit circuit, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!circuit.TryAdmit(out Admission admission))
        {
            return Reject(circuit, request, admission.Phase);
        }

        CircuitTelemetry.RecordAdmitted(circuit);

        using CancellationTokenSource? timeoutSource = circuit.Policy.Timeout is { } timeout ? new CancellationTokenSource(timeout, circuit.TimeProvider) : null;
        using CancellationTokenSource? linkedSource = timeoutSource is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);

        HttpResponseMessage response;
        try
        {
            response = base.Send(request, linkedSource?.Token ?? cancellationToken);
        }
        catch (OperationCanceledException exception) when (IsBreakerTimeout(timeoutSource, cancellationToken))
        {
            throw RecordTimeout(circuit, admission, exception);
        }
        catch (Exception exception) when (RecordException(circuit, request, admission, exception, cancellationToken))
        {
            throw;
        }

        RecordResponse(circuit, request, admission, response);
        return response;
    }

    private async Task<HttpResponseMessage> ObserveAsync(Circuit circuit, HttpRequestMessage request, Task<HttpResponseMessage> sending, Admission admission, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await sending.ConfigureAwait(false);
        }
        catch (Exception exception) when (RecordException(circuit, request, admission, exception, cancellationToken))
        {
            throw;
        }

        RecordResponse(circuit, request, admission, response);
        return response;
    }

    private async Task<HttpResponseMessage> SendWithTimeoutAsync(Circuit circuit, HttpRequestMessage request, Admission admission, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The timer runs on the circuit's TimeProvider, so tests advance a fake clock instead of waiting.
        using var timeoutSource = new CancellationTokenSource(timeout, circuit.TimeProvider);
        using var linkedSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);

        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, linkedSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (IsBreakerTimeout(timeoutSource, cancellationToken))
        {
            throw RecordTimeout(circuit, admission, exception);
        }
        catch (Exception exception) when (RecordException(circuit, request, admission, exception, cancellationToken))
        {
            throw;
        }

        RecordResponse(circuit, request, admission, response);
        return response;
    }

    private static bool IsBreakerTimeout(CancellationTokenSource? timeoutSource, CancellationToken callerToken) =>
        timeoutSource is { IsCancellationRequested: true } && !callerToken.IsCancellationRequested;

    /// <summary>
    /// Records a breaker timeout as a failure and builds the exception that <see cref="HttpClient.Timeout"/> would
    /// have thrown, so callers handle both the same way.
    /// </summary>
    private TaskCanceledException RecordTimeout(Circuit circuit, in Admission admission, OperationCanceledException cancellation)
    {
        circuit.Record(admission, CircuitBreakerOutcome.Failure);
        _telemetry?.RecordOutcome(circuit, "timeout");

        TimeSpan timeout = circuit.Policy.Timeout.GetValueOrDefault();
        Log.AttemptTimedOut(_logger, circuit.ClientName, circuit.Name, timeout);
        string message = $"The request was canceled due to the configured CircuitBreakerOptions.Timeout of {timeout.TotalSeconds} seconds elapsing.";
        return new TaskCanceledException(message, new TimeoutException(message, cancellation));
    }

    private void RecordResponse(Circuit circuit, HttpRequestMessage request, in Admission admission, HttpResponseMessage? response)
    {
        if (response is null)
        {
            // A null response comes from a broken handler below this one. HttpClient reports it to the caller, and
            // it is no evidence about the upstream.
            circuit.RecordCancelled(admission);
            return;
        }

        CircuitBreakerOutcome outcome = OutcomeClassifier.Classify(circuit, _logger, request, response);
        outcome = OutcomeClassifier.ApplySlowCallRule(circuit, admission, outcome);

        TimeSpan? retryAfter = outcome == CircuitBreakerOutcome.Failure && circuit.Policy.HonorRetryAfter
            ? OutcomeClassifier.GetRetryAfter(response, circuit.TimeProvider)
            : null;
        circuit.Record(admission, outcome, retryAfter);
        _telemetry?.RecordOutcome(circuit, CircuitTelemetry.FormatOutcome(outcome));
    }

    /// <summary>
    /// Records an exception from the inner handler and returns <see langword="false"/>, so that the exception
    /// filter that calls it lets the same exception instance reach the caller with its stack trace intact.
    /// </summary>
    private bool RecordException(Circuit circuit, HttpRequestMessage request, in Admission admission, Exception exception, CancellationToken cancellationToken)
    {
        // NOTE: HttpClient.Timeout cancels through the token that reaches this handler, so a request that runs into
        // the client's timeout looks like the caller's own cancellation and does not count. CircuitBreakerOptions.Timeout
        // is the timeout that counts.
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            circuit.RecordCancelled(admission);
            return false;
        }

        CircuitBreakerOutcome outcome = OutcomeClassifier.ApplySlowCallRule(circuit, admission, OutcomeClassifier.Classify(circuit, _logger, request, exception));
        circuit.Record(admission, outcome);
        _telemetry?.RecordOutcome(circuit, CircuitTelemetry.FormatOutcome(outcome));
        return false;
    }

    private HttpResponseMessage Reject(Circuit circuit, HttpRequestMessage request, CircuitPhase phase)
    {
        Log.Rejected(_logger, circuit.ClientName, circuit.Name, phase.State);
        _telemetry?.RecordRejected(circuit, phase.State, phase.ProbeAt);

        return RejectionResponse.Create(request, circuit, phase);
    }
}
