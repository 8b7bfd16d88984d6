using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace HttpBreaker.Internal;

/// <summary>
/// Turns a response or an exception into the outcome that the circuit records.
/// </summary>
internal static class OutcomeClassifier
{
    public static CircuitBreakerOutcome Classify(Circuit circuit, ILogger logger, HttpRequestMessage request, HttpResponseMessage response)
    {
        CircuitPolicy policy = circuit.Policy;
        if (policy.ClassifyOutcome is not null &&
            Custom(circuit, logger, new CircuitBreakerOutcomeContext(circuit.Name, request, response, null)) is { } custom)
        {
            return custom;
        }

        int status = (int)response.StatusCode;
        if (policy.FailureStatusCodes.Contains(status))
        {
            return CircuitBreakerOutcome.Failure;
        }

        // A listed-out 4xx or 5xx is the upstream saying no to this request, not evidence of its health either way.
        return status >= 400 ? CircuitBreakerOutcome.Ignored : CircuitBreakerOutcome.Success;
    }

    public static CircuitBreakerOutcome Classify(Circuit circuit, ILogger logger, HttpRequestMessage request, Exception exception)
    {
        if (circuit.Policy.ClassifyOutcome is not null &&
            Custom(circuit, logger, new CircuitBreakerOutcomeContext(circuit.Name, request, null, exception)) is { } custom)
        {
            return custom;
        }

        return CircuitBreakerOutcome.Failure;
    }

    /// <summary>
    /// Turns a call that ran past <see cref="CircuitPolicy.SlowCallDuration"/> into a failure, whatever its result.
    /// </summary>
    public static CircuitBreakerOutcome ApplySlowCallRule(Circuit circuit, in Admission admission, CircuitBreakerOutcome outcome)
    {
        if (outcome == CircuitBreakerOutcome.Failure || circuit.Policy.SlowCallDuration is not { } slow || admission.StartTimestamp == 0)
        {
            return outcome;
        }

        return circuit.TimeProvider.GetElapsedTime(admission.StartTimestamp) > slow ? CircuitBreakerOutcome.Failure : outcome;
    }

    /// <summary>
    /// Reads the delay that a failure response requests, as seconds or as an HTTP date relative to the circuit's clock.
    /// </summary>
    public static TimeSpan? GetRetryAfter(HttpResponseMessage response, TimeProvider timeProvider)
    {
        RetryConditionHeaderValue? retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            TimeSpan untilDate = date - timeProvider.GetUtcNow();
            return untilDate > TimeSpan.Zero ? untilDate : null;
        }

        return null;
    }

    private static CircuitBreakerOutcome? Custom(Circuit circuit, ILogger logger, CircuitBreakerOutcomeContext context)
    {
        try
        {
            return circuit.Policy.ClassifyOutcome!(context);
        }
        catch (Exception exception)
        {
            // A broken classifier must not lose the outcome: a probe whose result went unrecorded would hold its
            // slot until the probe timeout. The default rules decide instead.
            Log.ClassifierFailed(logger, exception, circuit.ClientName, circuit.Name);
            return null;
        }
    }
}
