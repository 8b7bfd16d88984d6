using Microsoft.Extensions.Logging;

namespace HttpBreaker.Internal;

/// <summary>
/// Log messages of the circuit breaker. Event ids are stable, so that alerts can key on them.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning,
        "Circuit '{CircuitName}' of client '{ClientName}' opened: the consecutive failure count reached {ConsecutiveFailures}. Requests are rejected until {ProbeAt:O}.")]
    public static partial void Opened(ILogger logger, string clientName, string circuitName, int consecutiveFailures, DateTimeOffset probeAt);

    [LoggerMessage(2, LogLevel.Warning,
        "Circuit '{CircuitName}' of client '{ClientName}' reopened because a probe failed. Requests are rejected until {ProbeAt:O}.")]
    public static partial void ProbeFailed(ILogger logger, string clientName, string circuitName, DateTimeOffset probeAt);

    [LoggerMessage(3, LogLevel.Information, "Circuit '{CircuitName}' of client '{ClientName}' is half-open: probe requests go to the upstream, at most {PermittedProbes} at a time.")]
    public static partial void HalfOpen(ILogger logger, string clientName, string circuitName, int permittedProbes);

    [LoggerMessage(4, LogLevel.Information, "Circuit '{CircuitName}' of client '{ClientName}' closed because the probes succeeded.")]
    public static partial void Closed(ILogger logger, string clientName, string circuitName);

    [LoggerMessage(5, LogLevel.Warning, "Circuit '{CircuitName}' of client '{ClientName}' isolated (was {PreviousState}). Every request is rejected until it is reset.")]
    public static partial void Isolated(ILogger logger, string clientName, string circuitName, CircuitState previousState);

    [LoggerMessage(6, LogLevel.Information, "Circuit '{CircuitName}' of client '{ClientName}' reset to closed (was {PreviousState}).")]
    public static partial void Reset(ILogger logger, string clientName, string circuitName, CircuitState previousState);

    [LoggerMessage(7, LogLevel.Debug, "Circuit '{CircuitName}' of client '{ClientName}' is {State}: the request was not sent and got a synthetic 503.")]
    public static partial void Rejected(ILogger logger, string clientName, string circuitName, CircuitState state);

    [LoggerMessage(8, LogLevel.Warning,
        "Circuit '{CircuitName}' of client '{ClientName}' opened after {Failures} failures in {Throughput} requests over {SamplingDuration}. Requests are rejected until {ProbeAt:O}.")]
    public static partial void OpenedByRatio(ILogger logger, string clientName, string circuitName, int failures, int throughput, TimeSpan samplingDuration, DateTimeOffset probeAt);

    [LoggerMessage(9, LogLevel.Warning,
        "Circuit '{CircuitName}' of client '{ClientName}' reopened because a probe ran longer than {ProbeTimeout}. Requests are rejected until {ProbeAt:O}.")]
    public static partial void ProbeTimedOut(ILogger logger, string clientName, string circuitName, TimeSpan probeTimeout, DateTimeOffset probeAt);

    [LoggerMessage(10, LogLevel.Debug, "Request through circuit '{CircuitName}' of client '{ClientName}' ran longer than the breaker's timeout of {Timeout} and was cancelled.")]
    public static partial void AttemptTimedOut(ILogger logger, string clientName, string circuitName, TimeSpan timeout);

    [LoggerMessage(11, LogLevel.Error, "The outcome classifier of client '{ClientName}' threw for circuit '{CircuitName}'; the default rules classified the outcome instead.")]
    public static partial void ClassifierFailed(ILogger logger, Exception exception, string clientName, string circuitName);

    [LoggerMessage(12, LogLevel.Debug, "Circuit '{CircuitName}' of client '{ClientName}' was evicted from the registry while {State}; its next request starts a closed circuit.")]
    public static partial void Evicted(ILogger logger, string clientName, string circuitName, CircuitState state);

    [LoggerMessage(13, LogLevel.Error, "A StateChanged subscriber threw while handling a change of circuit '{CircuitName}' of client '{ClientName}'.")]
    public static partial void SubscriberFailed(ILogger logger, Exception exception, string clientName, string circuitName);

    [LoggerMessage(14, LogLevel.Warning, "StateChanged subscribers fell more than {QueueCapacity} changes behind; {Dropped} changes dropped so far.")]
    public static partial void StateChangesDropped(ILogger logger, long dropped, int queueCapacity);

    [LoggerMessage(15, LogLevel.Information, "Circuit breaker options of client '{ClientName}' reloaded; its {CircuitCount} circuits kept their state and counts.")]
    public static partial void OptionsReloaded(ILogger logger, string clientName, int circuitCount);

    [LoggerMessage(16, LogLevel.Error, "Reloaded circuit breaker options of client '{ClientName}' are invalid and were not applied; the previous options stay in force. {Failures}")]
    public static partial void ReloadRejected(ILogger logger, string clientName, string failures);

    [LoggerMessage(17, LogLevel.Error, "Reloading circuit breaker options of client '{ClientName}' failed; the previous options stay in force.")]
    public static partial void ReloadFailed(ILogger logger, Exception exception, string clientName);

    [LoggerMessage(18, LogLevel.Warning,
        "Reloaded options of client '{ClientName}' change how requests are partitioned (PartitionBy {NewPartitionBy}); the client keeps PartitionBy {PartitionBy} until the application restarts. The other options were applied.")]
    public static partial void PartitioningKept(ILogger logger, string clientName, PartitionBy partitionBy, PartitionBy newPartitionBy);

    [LoggerMessage(19, LogLevel.Warning,
        "Configuration section '{SectionPath}' has settings for client '{ClientName}', which has no circuit breaker, so they are not used. Clients with a circuit breaker: {KnownClients}.")]
    public static partial void UnknownConfiguredClient(ILogger logger, string sectionPath, string clientName, string knownClients);

    [LoggerMessage(20, LogLevel.Information, "Reloaded circuit breaker options of client '{ClientName}' are valid again and equal to the options in force, which stay unchanged.")]
    public static partial void ReloadValidAgain(ILogger logger, string clientName);
}
