using Microsoft.Extensions.Logging;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// Log messages of the Redis fleet. Event ids start at 100, clear of the circuit breaker's own, and are stable.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Warning,
        "Redis is unreachable for the shared circuits ({Operation} of circuit '{CircuitName}' of client '{ClientName}' failed). " +
        "Every instance keeps deciding from its local circuits until Redis answers again; further failures are counted, not logged.")]
    public static partial void StoreUnavailable(ILogger logger, Exception exception, string clientName, string circuitName, string operation);

    [LoggerMessage(101, LogLevel.Information, "Redis answers again for the shared circuits of client '{ClientName}'; the shared state is read again.")]
    public static partial void StoreAvailable(ILogger logger, string clientName);

    [LoggerMessage(102, LogLevel.Warning, "Circuit '{CircuitName}' of client '{ClientName}' opened for the whole fleet ({Reason}). Requests are rejected for {Remaining}.")]
    public static partial void FleetOpened(ILogger logger, string clientName, string circuitName, CircuitTransitionReason reason, TimeSpan remaining);

    [LoggerMessage(103, LogLevel.Information, "Circuit '{CircuitName}' of client '{ClientName}' closed for the whole fleet ({Reason}).")]
    public static partial void FleetClosed(ILogger logger, string clientName, string circuitName, CircuitTransitionReason reason);

    [LoggerMessage(104, LogLevel.Warning, "Circuit '{CircuitName}' of client '{ClientName}' isolated for the whole fleet.")]
    public static partial void FleetIsolated(ILogger logger, string clientName, string circuitName);

    [LoggerMessage(105, LogLevel.Information, "Circuit '{CircuitName}' of client '{ClientName}' won the fleet's probe lease for {ProbeTimeout}; this instance sends the probe.")]
    public static partial void ProbeLeaseWon(ILogger logger, string clientName, string circuitName, TimeSpan probeTimeout);

    [LoggerMessage(106, LogLevel.Debug, "Circuit '{CircuitName}' of client '{ClientName}' reported a trip: {Outcome}, quorum {Quorum}.")]
    public static partial void TripReported(ILogger logger, string clientName, string circuitName, string outcome, int quorum);
}
