using Microsoft.Extensions.Logging;

namespace HttpBreaker.Internal;

/// <summary>
/// Log messages of the circuit breaker. Event ids are stable, so that alerts can key on them.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning,
        "Circuit of client '{ClientName}' opened after {ConsecutiveFailures} consecutive failures; requests are rejected for {BreakDuration}, until {ProbeAt:O}.")]
    public static partial void Opened(ILogger logger, string clientName, int consecutiveFailures, TimeSpan breakDuration, DateTimeOffset probeAt);

    [LoggerMessage(2, LogLevel.Warning,
        "Circuit of client '{ClientName}' reopened because the probe failed; requests are rejected for {BreakDuration}, until {ProbeAt:O}.")]
    public static partial void ProbeFailed(ILogger logger, string clientName, TimeSpan breakDuration, DateTimeOffset probeAt);

    [LoggerMessage(3, LogLevel.Information, "Circuit of client '{ClientName}' is half-open: one probe request is sent to the upstream.")]
    public static partial void HalfOpen(ILogger logger, string clientName);

    [LoggerMessage(4, LogLevel.Information, "Circuit of client '{ClientName}' closed because the probe succeeded.")]
    public static partial void Closed(ILogger logger, string clientName);

    [LoggerMessage(5, LogLevel.Warning, "Circuit of client '{ClientName}' isolated (was {PreviousState}); every request is rejected until it is reset.")]
    public static partial void Isolated(ILogger logger, string clientName, CircuitState previousState);

    [LoggerMessage(6, LogLevel.Information, "Circuit of client '{ClientName}' reset to closed (was {PreviousState}).")]
    public static partial void Reset(ILogger logger, string clientName, CircuitState previousState);

    [LoggerMessage(7, LogLevel.Debug, "Circuit of client '{ClientName}' is {State}: the request was not sent and got a synthetic 503.")]
    public static partial void Rejected(ILogger logger, string clientName, CircuitState state);
}
