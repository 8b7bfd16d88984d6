namespace HttpBreaker.Internal;

/// <summary>
/// The validated options of one circuit in the form the request path reads: parsed status codes and resolved
/// defaults, fixed when the circuit is created.
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
    }

    /// <summary>Gets the consecutive failures that open the circuit, or 0 when that rule is off.</summary>
    public int FailureThreshold { get; }

    public double? FailureRatio { get; }

    public TimeSpan SamplingDuration { get; }

    public int MinimumThroughput { get; }

    public TimeSpan? SlowCallDuration { get; }

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

    public static TimeSpan GetMaxBreakDuration(CircuitBreakerOptions options) =>
        options.MaxBreakDuration ??
        (options.BreakDuration > CircuitBreakerDefaults.MaxBreakDuration ? options.BreakDuration : CircuitBreakerDefaults.MaxBreakDuration);
}
