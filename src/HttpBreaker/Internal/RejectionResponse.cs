using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace HttpBreaker.Internal;

/// <summary>
/// Builds the synthetic 503 that a circuit returns instead of sending a request.
/// </summary>
internal static class RejectionResponse
{
    public const string HeaderName = "HttpBreaker-Rejected";
    public const string ProblemContentType = "application/problem+json";

    private const string ContentTypeValue = ProblemContentType + "; charset=utf-8";
    private const string ContentTypeHeaderName = "Content-Type";
    private const string RetryAfterHeaderName = "Retry-After";

    /// <summary>
    /// The delay that a rejection during a probe suggests. The probe's own duration is unknown, and the circuit
    /// may close as soon as it returns, so the shortest delay that <c>Retry-After</c> can express is used.
    /// </summary>
    private static readonly TimeSpan HalfOpenRetryDelay = TimeSpan.FromSeconds(1);

    public static HttpResponseMessage Create(HttpRequestMessage request, Circuit circuit, CircuitPhase phase)
    {
        var response = new RejectedResponseMessage
        {
            RequestMessage = request,
            Version = request.Version,
        };

        // Headers go in as text, which the runtime parses only if a caller reads the typed property. An open circuit
        // may reject thousands of requests a second, and each typed value costs an object per rejection.
        response.Headers.TryAddWithoutValidation(HeaderName, StateToken(phase.State));
        if (GetRetryDelaySeconds(phase, circuit.TimeProvider) is { } seconds)
        {
            response.Headers.TryAddWithoutValidation(RetryAfterHeaderName, seconds.ToString(CultureInfo.InvariantCulture));
        }

        // Phases never change once created, so their body is built once and shared by every rejection. A race
        // between the first two rejections builds it twice, and either copy is correct.
        byte[] body = phase.RejectionBody ??= CreateBody(circuit.Name, phase);
        response.Content = new ByteArrayContent(body);
        response.Content.Headers.TryAddWithoutValidation(ContentTypeHeaderName, ContentTypeValue);

        return response;
    }

    /// <summary>
    /// Tells a rejection of this process by its type: the header alone could come from an upstream that is itself
    /// behind a breaker, or from a proxy that passed such a rejection on.
    /// </summary>
    public static bool IsRejection(HttpResponseMessage response) => response is RejectedResponseMessage;

    /// <summary>
    /// Returns the whole seconds until an open circuit admits a probe, rounded up so that a client that waits
    /// that long finds the break over; <see langword="null"/> for an isolated circuit, which has no end time.
    /// </summary>
    private static long? GetRetryDelaySeconds(CircuitPhase phase, TimeProvider timeProvider)
    {
        switch (phase)
        {
            case OpenPhase open:
                TimeSpan remaining = timeProvider.GetElapsedTime(timeProvider.GetTimestamp(), open.ProbeAtTimestamp);
                long seconds = (remaining.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
                return Math.Max(1, seconds);
            case HalfOpenPhase:
                return (long)HalfOpenRetryDelay.TotalSeconds;
            default:
                return null;
        }
    }

    private static string StateToken(CircuitState state) => state switch
    {
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        CircuitState.Isolated => "isolated",
        _ => "closed",
    };

    /// <summary>
    /// Writes an RFC 9457 problem details document. The type is <c>about:blank</c>, so the title is the status
    /// text, and the client, state and retry time are extension members.
    /// </summary>
    private static byte[] CreateBody(string clientName, CircuitPhase phase)
    {
        var buffer = new ArrayBufferWriter<byte>(384);
        // The body is JSON for API clients, never embedded in HTML, so quotes and plus signs in the detail text stay
        // readable instead of being written as \u escapes.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "about:blank");
            writer.WriteString("title", "Service Unavailable");
            writer.WriteNumber("status", 503);
            writer.WriteString("detail", CreateDetail(clientName, phase));
            writer.WriteString("client", clientName);
            writer.WriteString("state", StateToken(phase.State));
            if (phase.State == CircuitState.Open)
            {
                writer.WriteString("retryAfter", phase.ProbeAt.GetValueOrDefault());
            }
            else if (phase.State == CircuitState.HalfOpen)
            {
                writer.WriteNumber("retryAfterSeconds", (int)HalfOpenRetryDelay.TotalSeconds);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string CreateDetail(string clientName, CircuitPhase phase) => phase.State switch
    {
        CircuitState.Open =>
            $"The circuit of client '{clientName}' is open, so the request was not sent. Retry after {phase.ProbeAt.GetValueOrDefault():O}.",
        CircuitState.HalfOpen =>
            $"The circuit of client '{clientName}' is half-open and its probe requests are in flight, so the request was not sent. Retry in {(int)HalfOpenRetryDelay.TotalSeconds} second.",
        _ =>
            $"The circuit of client '{clientName}' is isolated until an operator resets it, so the request was not sent.",
    };
}
