using HttpBreaker.Internal;

namespace HttpBreaker;

/// <summary>
/// Settings of the circuit breaker of one named client.
/// </summary>
/// <remarks>
/// Options are named after the client, so <c>services.Configure&lt;CircuitBreakerOptions&gt;("github", ...)</c>
/// configures the client named <c>github</c>. They are validated when the client is first created, or at host
/// start when the host validates options on start, and invalid values raise an
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> that names the client, the option,
/// the value and the allowed range. Every option except <see cref="ClassifyOutcome"/> binds from configuration
/// by its name.
/// </remarks>
public sealed class CircuitBreakerOptions
{
    /// <summary>
    /// Gets or sets the number of consecutive failures that opens a closed circuit.
    /// </summary>
    /// <value>
    /// Default 5. Allowed range: 1 to <see cref="int.MaxValue"/>, or 0 to turn the consecutive rule off when
    /// <see cref="FailureRatio"/> is set.
    /// </value>
    /// <remarks>
    /// A failure is a response whose status is in <see cref="FailureStatusCodes"/>, a call slower than
    /// <see cref="SlowCallDuration"/>, a <see cref="Timeout"/>, or an exception from the inner handler other than
    /// the caller's own cancellation. A success resets the count; an ignored outcome, such as a 4xx response,
    /// neither counts nor resets it. When <see cref="FailureRatio"/> is also set, either rule opens the circuit.
    /// </remarks>
    public int FailureThreshold { get; set; } = CircuitBreakerDefaults.FailureThreshold;

    /// <summary>
    /// Gets or sets the share of failures over <see cref="SamplingDuration"/> that opens a closed circuit, or
    /// <see langword="null"/> to turn the ratio rule off.
    /// </summary>
    /// <value>Default <see langword="null"/> (off). Allowed range: more than 0, up to 1 (every request failed).</value>
    /// <remarks>
    /// The circuit opens when at least <see cref="MinimumThroughput"/> outcomes were recorded in the window and
    /// failures divided by that count reaches this ratio. Ignored outcomes count in neither. When
    /// <see cref="FailureThreshold"/> is also set, either rule opens the circuit.
    /// </remarks>
    public double? FailureRatio { get; set; }

    /// <summary>
    /// Gets or sets the length of the sliding window that <see cref="FailureRatio"/> is measured over.
    /// </summary>
    /// <value>Default 30 seconds. Allowed range: 10 milliseconds to one day.</value>
    /// <remarks>
    /// The window is split into ten buckets, so outcomes age out one tenth of the window at a time.
    /// </remarks>
    public TimeSpan SamplingDuration { get; set; } = CircuitBreakerDefaults.SamplingDuration;

    /// <summary>
    /// Gets or sets how many outcomes the sampling window must hold before <see cref="FailureRatio"/> can open
    /// the circuit, so that two failures out of three requests at night do not.
    /// </summary>
    /// <value>Default 100. Allowed range: 2 to <see cref="int.MaxValue"/>.</value>
    public int MinimumThroughput { get; set; } = CircuitBreakerDefaults.MinimumThroughput;

    /// <summary>
    /// Gets or sets the duration above which a call counts as a failure even when it succeeds, or
    /// <see langword="null"/> to judge calls by their result alone.
    /// </summary>
    /// <value>Default <see langword="null"/> (off). Allowed range: 1 millisecond to one day.</value>
    /// <remarks>The duration runs from admission until the response headers arrive, read from the <see cref="TimeProvider"/>.</remarks>
    public TimeSpan? SlowCallDuration { get; set; }

    /// <summary>
    /// Gets or sets how long one attempt may run before the breaker cancels it and counts a failure, or
    /// <see langword="null"/> for no timeout of the breaker's own.
    /// </summary>
    /// <value>Default <see langword="null"/> (off). Allowed range: 1 millisecond to one day.</value>
    /// <remarks>
    /// A timed-out attempt throws a <see cref="TaskCanceledException"/> whose inner exception is a
    /// <see cref="TimeoutException"/>, the same shape that <see cref="HttpClient.Timeout"/> produces. Set it below
    /// <see cref="HttpClient.Timeout"/>: the client's own timeout cancels through the caller's token, so the breaker
    /// cannot tell it from the caller's cancellation and never counts it.
    /// </remarks>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// Gets or sets the response status codes that count as failures, as a comma-separated list of codes and
    /// ranges such as <c>500-599,408,429</c>.
    /// </summary>
    /// <value>Default <c>500-599</c>. Allowed: codes and ranges within 100-599, at least one.</value>
    /// <remarks>
    /// A 4xx or 5xx status that is not listed is ignored: it neither counts nor resets the consecutive count.
    /// Any other status is a success.
    /// </remarks>
    public string FailureStatusCodes { get; set; } = CircuitBreakerDefaults.FailureStatusCodes;

    /// <summary>
    /// Gets or sets a delegate that classifies an outcome that no status list can express, or
    /// <see langword="null"/> to use <see cref="FailureStatusCodes"/> alone.
    /// </summary>
    /// <value>Default <see langword="null"/>. Not bound from configuration.</value>
    /// <remarks>
    /// It receives every response and every exception other than the caller's cancellation and a breaker
    /// <see cref="Timeout"/>. Returning <see langword="null"/> falls back to the default rules. It runs on the
    /// request path, so it must be fast. When it throws, the exception is logged and the default rules classify
    /// the outcome, so the caller still gets the upstream's response or exception.
    /// </remarks>
    public Func<CircuitBreakerOutcomeContext, CircuitBreakerOutcome?>? ClassifyOutcome { get; set; }

    /// <summary>
    /// Gets or sets how long an open circuit rejects requests before it lets a probe through.
    /// </summary>
    /// <value>Default 30 seconds. Allowed range: 1 millisecond to one day.</value>
    public TimeSpan BreakDuration { get; set; } = CircuitBreakerDefaults.BreakDuration;

    /// <summary>
    /// Gets or sets whether a <c>Retry-After</c> header on the failure response that opens or reopens the circuit
    /// lengthens the break to at least that long, up to <see cref="MaxBreakDuration"/>.
    /// </summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool HonorRetryAfter { get; set; } = CircuitBreakerDefaults.HonorRetryAfter;

    /// <summary>
    /// Gets or sets the longest break that backoff or an upstream <c>Retry-After</c> can produce, or
    /// <see langword="null"/> for the longer of 5 minutes and <see cref="BreakDuration"/>.
    /// </summary>
    /// <value>Default <see langword="null"/>. Allowed range: <see cref="BreakDuration"/> to one day.</value>
    public TimeSpan? MaxBreakDuration { get; set; }

    /// <summary>
    /// Gets or sets the factor that each reopening, without a close in between, applies to the previous break.
    /// A close resets the break to <see cref="BreakDuration"/>.
    /// </summary>
    /// <value>Default 1 (a fixed break). Allowed range: 1 to 100.</value>
    public double BreakDurationMultiplier { get; set; } = CircuitBreakerDefaults.BreakDurationMultiplier;

    /// <summary>
    /// Gets or sets the random spread applied to each break, as a fraction of it, so that many instances that
    /// opened together do not probe in lockstep. A jitter of 0.2 makes a 30-second break last 24 to 36 seconds.
    /// </summary>
    /// <value>Default 0 (off). Allowed range: 0 to 1.</value>
    public double BreakDurationJitter { get; set; } = CircuitBreakerDefaults.BreakDurationJitter;

    /// <summary>
    /// Gets or sets how many probe requests a half-open circuit lets through at once. The rest get the synthetic
    /// 503.
    /// </summary>
    /// <value>Default 1. Allowed range: 1 to 1000.</value>
    public int PermittedProbes { get; set; } = CircuitBreakerDefaults.PermittedProbes;

    /// <summary>
    /// Gets or sets how many successful probes close a half-open circuit, or <see langword="null"/> for
    /// <see cref="PermittedProbes"/>. Any failed probe reopens it.
    /// </summary>
    /// <value>Default <see langword="null"/> (all permitted probes). Allowed range: 1 to 1000.</value>
    /// <remarks>A probe that completes frees its slot for the next one, so the successes may come one after another.</remarks>
    public int? ProbeSuccessThreshold { get; set; }

    /// <summary>
    /// Gets or sets how long a probe may run before it counts as failed and the circuit reopens, so that a hung
    /// probe cannot hold the circuit half-open.
    /// </summary>
    /// <value>Default 30 seconds. Allowed range: 1 millisecond to one day.</value>
    /// <remarks>
    /// The breaker notices the expiry when the next request arrives or a probe reports back, and dates the
    /// reopening from the moment the probe expired. The late result of the expired probe never counts.
    /// </remarks>
    public TimeSpan ProbeTimeout { get; set; } = CircuitBreakerDefaults.ProbeTimeout;

    /// <summary>
    /// Gets or sets what the client's requests are split by, each part with its own circuit, state and counters.
    /// </summary>
    /// <value>Default <see cref="HttpBreaker.PartitionBy.Client"/> (one circuit). Binds from configuration by name.</value>
    /// <remarks>
    /// A partition's circuit is named <c>client/partition</c>, such as <c>github/https://api.github.com:443</c>.
    /// These options apply to every partition of the client.
    /// </remarks>
    public PartitionBy PartitionBy { get; set; } = PartitionBy.Client;

    /// <summary>
    /// Gets or sets a delegate that computes a custom partition key per request, such as a tenant id from a
    /// header or an <see cref="HttpRequestOptions"/> value, or <see langword="null"/> to use <see cref="PartitionBy"/>.
    /// </summary>
    /// <value>Default <see langword="null"/>. Not bound from configuration.</value>
    /// <remarks>
    /// When set, it replaces <see cref="PartitionBy"/>. A request for which it returns <see langword="null"/> goes
    /// through the client's own circuit. It runs on the request path, so it must be fast; an exception from it
    /// reaches the caller and nothing is sent.
    /// </remarks>
    public Func<HttpRequestMessage, string?>? PartitionKey { get; set; }

    /// <summary>
    /// Gets or sets how many partition circuits one client keeps. When a new key arrives at the bound, the least
    /// recently used closed circuits are evicted first. Open and half-open ones go last, because evicting them
    /// drops protection. Isolated ones are never evicted.
    /// </summary>
    /// <value>Default 1024. Allowed range: 1 to 1,000,000.</value>
    /// <remarks>
    /// When every circuit at the bound has a request in flight or is isolated, a new key shares the client's own
    /// circuit until one can be evicted.
    /// </remarks>
    public int MaxPartitions { get; set; } = CircuitBreakerDefaults.MaxPartitions;

    /// <summary>
    /// Gets or sets how long a closed partition circuit may go without traffic before the registry drops it, or
    /// <see langword="null"/> to keep it until the bound forces it out.
    /// </summary>
    /// <value>Default 10 minutes. Allowed range: 1 second to one day.</value>
    /// <remarks>Idle circuits are swept while the client sends partitioned requests, not by a timer.</remarks>
    public TimeSpan? PartitionIdleTimeout { get; set; } = CircuitBreakerDefaults.PartitionIdleTimeout;

    /// <summary>
    /// Gets or sets whether the breaker's metrics carry the partition key as the <c>httpbreaker.partition.key</c>
    /// tag.
    /// </summary>
    /// <value>Default <see langword="false"/>. Binds from configuration by name.</value>
    /// <remarks>
    /// Off by default because partition keys are unbounded: one time series per host or tenant can overwhelm a
    /// metrics backend. Turn it on only when the client's keys form a small, known set.
    /// </remarks>
    public bool IncludePartitionKeyInMetrics { get; set; }
}
