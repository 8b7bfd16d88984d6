namespace HttpBreaker.Internal;

/// <summary>
/// The validated options of one circuit in the form the request path reads: parsed status codes and resolved
/// defaults. A configuration reload replaces a client's policy as a whole, never one field at a time.
/// </summary>
internal sealed class CircuitPolicy
{
    private CircuitPolicy(CircuitBreakerOptions options, StatusCodeSet failureStatusCodes)
    {
        FailureThreshold = options.FailureThreshold;
        FailureRatio = options.FailureRatio;
        SamplingDuration = options.SamplingDuration;
        MinimumThroughput = options.MinimumThroughput;
        SlowCallDuration = options.SlowCallDuration;
        Timeout = options.Timeout;
        FailureStatusCodes = failureStatusCodes;
        ClassifyOutcome = options.ClassifyOutcome;
        BreakDuration = options.BreakDuration;
        HonorRetryAfter = options.HonorRetryAfter;
        MaxBreakDuration = GetMaxBreakDuration(options);
        BreakDurationMultiplier = options.BreakDurationMultiplier;
        BreakDurationJitter = options.BreakDurationJitter;
        PermittedProbes = options.PermittedProbes;
        ProbeSuccessThreshold = options.ProbeSuccessThreshold ?? options.PermittedProbes;
        ProbeTimeout = options.ProbeTimeout;
        PartitionBy = options.PartitionBy;
        PartitionKey = options.PartitionKey;
        MaxPartitions = options.MaxPartitions;
        PartitionIdleTimeout = options.PartitionIdleTimeout;
        IncludePartitionKeyInMetrics = options.IncludePartitionKeyInMetrics;
    }

    /// <summary>Gets the consecutive failures that open the circuit, or 0 when that rule is off.</summary>
    public int FailureThreshold { get; }

    public double? FailureRatio { get; }

    public TimeSpan SamplingDuration { get; }

    public int MinimumThroughput { get; }

    public TimeSpan? SlowCallDuration { get; }

    /// <summary>Gets whether admitted requests carry their start time, which only the slow-call rule needs.</summary>
    public bool MeasuresDuration => SlowCallDuration is not null;

    public TimeSpan? Timeout { get; }

    public StatusCodeSet FailureStatusCodes { get; }

    public Func<CircuitBreakerOutcomeContext, CircuitBreakerOutcome?>? ClassifyOutcome { get; }

    public TimeSpan BreakDuration { get; }

    public bool HonorRetryAfter { get; }

    public TimeSpan MaxBreakDuration { get; }

    public double BreakDurationMultiplier { get; }

    public double BreakDurationJitter { get; }

    public int PermittedProbes { get; }

    public int ProbeSuccessThreshold { get; }

    public TimeSpan ProbeTimeout { get; }

    public PartitionBy PartitionBy { get; }

    public Func<HttpRequestMessage, string?>? PartitionKey { get; }

    /// <summary>Gets whether requests are split into partitions at all.</summary>
    public bool IsPartitioned => PartitionKey is not null || PartitionBy != PartitionBy.Client;

    public int MaxPartitions { get; }

    public TimeSpan? PartitionIdleTimeout { get; }

    public bool IncludePartitionKeyInMetrics { get; }

    /// <summary>
    /// Creates the policy of options that passed validation.
    /// </summary>
    /// <exception cref="ArgumentException">The status code list does not parse, which validation rules out.</exception>
    public static CircuitPolicy Create(CircuitBreakerOptions options)
    {
        if (!StatusCodeSet.TryParse(options.FailureStatusCodes, out StatusCodeSet? codes, out string? error))
        {
            throw new ArgumentException($"FailureStatusCodes is invalid: {error}.", nameof(options));
        }

        return new CircuitPolicy(options, codes!);
    }

    /// <summary>
    /// Tells whether another policy has the same settings, so that a configuration reload that changed nothing for
    /// a client leaves its circuits alone. Delegates compare by reference.
    /// </summary>
    public bool HasSameSettings(CircuitPolicy other) =>
        FailureThreshold == other.FailureThreshold
        && FailureRatio == other.FailureRatio
        && SamplingDuration == other.SamplingDuration
        && MinimumThroughput == other.MinimumThroughput
        && SlowCallDuration == other.SlowCallDuration
        && Timeout == other.Timeout
        && FailureStatusCodes.SetEquals(other.FailureStatusCodes)
        && ClassifyOutcome == other.ClassifyOutcome
        && BreakDuration == other.BreakDuration
        && HonorRetryAfter == other.HonorRetryAfter
        && MaxBreakDuration == other.MaxBreakDuration
        && BreakDurationMultiplier.Equals(other.BreakDurationMultiplier)
        && BreakDurationJitter.Equals(other.BreakDurationJitter)
        && PermittedProbes == other.PermittedProbes
        && ProbeSuccessThreshold == other.ProbeSuccessThreshold
        && ProbeTimeout == other.ProbeTimeout
        && PartitionBy == other.PartitionBy
        && PartitionKey == other.PartitionKey
        && MaxPartitions == other.MaxPartitions
        && PartitionIdleTimeout == other.PartitionIdleTimeout
        && IncludePartitionKeyInMetrics == other.IncludePartitionKeyInMetrics;

    /// <summary>Tells whether another policy splits requests into partitions the same way.</summary>
    public bool HasSamePartitioning(CircuitPolicy other) => PartitionBy == other.PartitionBy && PartitionKey == other.PartitionKey;

    public static TimeSpan GetMaxBreakDuration(CircuitBreakerOptions options) =>
        options.MaxBreakDuration ??
        (options.BreakDuration > CircuitBreakerDefaults.MaxBreakDuration ? options.BreakDuration : CircuitBreakerDefaults.MaxBreakDuration);
}
