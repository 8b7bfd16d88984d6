using Microsoft.Extensions.Logging;

namespace HttpBreaker.Internal;

/// <summary>
/// The state machine of one circuit. Handlers admit requests through it and report each outcome back with the
/// <see cref="Admission"/> they got. The registry owns it, so it outlives every handler.
/// </summary>
/// <remarks>
/// All state is one reference to a <see cref="CircuitPhase"/>, replaced by compare-and-swap. The closed path reads
/// that reference and touches a counter only on failure, so it takes no lock. A transition succeeds only from the
/// phase it was computed from, which is how a result from an older phase is kept from changing the state.
/// </remarks>
internal sealed partial class Circuit
{
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Random _random;
    private CircuitPolicy _policy;
    private readonly ICircuitEventSink? _events;
    private readonly ICircuitProbeGate? _probeGate;
    private readonly Lock _transitionGate = new();
    private CircuitPhase _phase;

    public Circuit(string name, CircuitPolicy policy, TimeProvider timeProvider, ILogger logger, Random? random = null)
        : this(name, partitionKey: null, policy, timeProvider, logger, events: null, random)
    {
    }

    public Circuit(string clientName, string? partitionKey, CircuitPolicy policy, TimeProvider timeProvider, ILogger logger, ICircuitEventSink? events, Random? random = null)
    {
        ClientName = clientName;
        PartitionKey = partitionKey;
        Name = partitionKey is null ? clientName : $"{clientName}/{partitionKey}";
        _events = events;
        _probeGate = events as ICircuitProbeGate;
        _policy = policy;
        _timeProvider = timeProvider;
        _logger = logger;
        _random = random ?? Random.Shared;
        _phase = CreateClosedPhase();
    }

    public Circuit(string name, CircuitBreakerOptions options, TimeProvider timeProvider, ILogger logger)
        : this(name, CircuitPolicy.Create(options), timeProvider, logger)
    {
    }

    /// <summary>Gets the circuit name: the client name, or <c>client/partition</c> for a partition.</summary>
    public string Name { get; }

    public string ClientName { get; }

    public string? PartitionKey { get; }

    /// <summary>Gets the current policy. A configuration reload replaces it through <see cref="UpdatePolicy"/>.</summary>
    public CircuitPolicy Policy => Volatile.Read(ref _policy);

    public TimeProvider TimeProvider => _timeProvider;

    internal CircuitPhase CurrentPhase => Volatile.Read(ref _phase);

    /// <summary>
    /// Decides whether a request may be sent.
    /// </summary>
    /// <param name="admission">
    /// When admitted, the ticket to pass back with the outcome; otherwise its phase is the one that rejected
    /// the request.
    /// </param>
    /// <returns><see langword="true"/> when the request may be sent.</returns>
    public bool TryAdmit(out Admission admission)
    {
        CircuitPhase phase = Volatile.Read(ref _phase);
        if (phase is ClosedPhase)
        {
            admission = new Admission(phase, -1, Volatile.Read(ref _policy).MeasuresDuration ? _timeProvider.GetTimestamp() : 0);
            return true;
        }

        return TryAdmitWhileNotClosed(phase, out admission);
    }

    /// <summary>
    /// Records the outcome of an admitted request.
    /// </summary>
    /// <param name="admission">The ticket from <see cref="TryAdmit"/>.</param>
    /// <param name="outcome">How the result counts.</param>
    /// <param name="retryAfter">The upstream's <c>Retry-After</c> on a failure response, if any.</param>
    public void Record(in Admission admission, CircuitBreakerOutcome outcome, TimeSpan? retryAfter = null)
    {
        switch (admission.Phase)
        {
            case ClosedPhase closed:
                RecordWhileClosed(closed, outcome, retryAfter);
                break;
            case HalfOpenPhase halfOpen:
                RecordProbe(halfOpen, admission, outcome, retryAfter);
                break;
        }
    }

    /// <summary>
    /// Records a request that ended without an outcome, such as one its caller cancelled. A probe gives its slot
    /// back, so the next request probes instead and the circuit cannot stay half-open for good.
    /// </summary>
    public void RecordCancelled(in Admission admission)
    {
        if (admission.Phase is HalfOpenPhase halfOpen && admission.ProbeSlot >= 0 && ReferenceEquals(Volatile.Read(ref _phase), halfOpen)
            && !TryExpireProbe(halfOpen, _timeProvider.GetTimestamp()))
        {
            halfOpen.ReleaseSlot(admission.ProbeSlot, admission.StartTimestamp);
        }
    }

    public void Isolate()
    {
        while (true)
        {
            CircuitPhase current = Volatile.Read(ref _phase);
            if (current is IsolatedPhase)
            {
                return;
            }

            var isolated = new IsolatedPhase(current.ConsecutiveFailures, _timeProvider.GetUtcNow());
            if (TryTransition(current, isolated, CircuitTransitionReason.Manual))
            {
                Log.Isolated(_logger, ClientName, Name, current.State);
                return;
            }
        }
    }

    public void Reset()
    {
        while (true)
        {
            CircuitPhase current = Volatile.Read(ref _phase);
            if (TryClose(current, CircuitTransitionReason.Manual))
            {
                Log.Reset(_logger, ClientName, Name, current.State);
                return;
            }
        }
    }

    /// <summary>
    /// Applies a reloaded policy without touching the state: an open circuit keeps its break, a half-open one its
    /// probes, and a closed one its failure counts. New values take effect from the next decision that reads them;
    /// the break duration and probe count apply to the next break.
    /// </summary>
    public void UpdatePolicy(CircuitPolicy policy)
    {
        // Transitions hold the same lock, so the closed phase read here cannot be replaced while its window is.
        lock (_transitionGate)
        {
            CircuitPolicy previous = _policy;
            Volatile.Write(ref _policy, policy);

            bool windowChanged = (previous.FailureRatio is null) != (policy.FailureRatio is null) || previous.SamplingDuration != policy.SamplingDuration;
            if (windowChanged && Volatile.Read(ref _phase) is ClosedPhase closed)
            {
                closed.ReplaceWindow(CreateWindow(policy, closed.Window));
            }
        }
    }

    public CircuitSnapshot GetSnapshot()
    {
        CircuitPhase phase = Volatile.Read(ref _phase);

        return new CircuitSnapshot
        {
            Name = Name,
            ClientName = ClientName,
            PartitionKey = PartitionKey,
            State = phase.State,
            ConsecutiveFailures = phase.ConsecutiveFailures,
            OpenedAt = phase.OpenedAt,
            NextProbeAt = phase.ProbeAt,
        };
    }

    private bool TryAdmitWhileNotClosed(CircuitPhase phase, out Admission admission)
    {
        while (true)
        {
            switch (phase)
            {
                case ClosedPhase:
                    admission = new Admission(phase, -1, Volatile.Read(ref _policy).MeasuresDuration ? _timeProvider.GetTimestamp() : 0);
                    return true;

                case OpenPhase open:
                    if (_timeProvider.GetTimestamp() < open.ProbeAtTimestamp)
                    {
                        admission = new Admission(open, -1, 0);
                        return false;
                    }

                    // A circuit shared with other instances probes only where the shared probe lease was won, so the
                    // gate may keep it open after its own break has ended.
                    if (_probeGate is { } gate && !gate.TryEnterHalfOpen(this, open))
                    {
                        admission = new Admission(open, -1, 0);
                        return false;
                    }

                    // The break is over. The request that wins the swap to half-open logs it, and every racer then
                    // competes for a probe slot in whatever phase is current.
                    var halfOpen = new HalfOpenPhase(open, _policy.PermittedProbes);
                    if (TryTransition(open, halfOpen, CircuitTransitionReason.BreakElapsed))
                    {
                        Log.HalfOpen(_logger, ClientName, Name, _policy.PermittedProbes);
                    }

                    break;

                case HalfOpenPhase probing:
                    long now = _timeProvider.GetTimestamp();
                    if (TryExpireProbe(probing, now))
                    {
                        break;
                    }

                    int slot = probing.TryTakeSlot(now);
                    admission = new Admission(probing, slot, now);
                    return slot >= 0;

                default:
                    admission = new Admission(phase, -1, 0);
                    return false;
            }

            phase = Volatile.Read(ref _phase);
        }
    }

    private void RecordWhileClosed(ClosedPhase closed, CircuitBreakerOutcome outcome, TimeSpan? retryAfter)
    {
        if (outcome == CircuitBreakerOutcome.Success)
        {
            closed.ResetFailures();
            closed.Window?.AddSuccess();
            return;
        }

        if (outcome != CircuitBreakerOutcome.Failure)
        {
            return;
        }

        // A reload can replace the policy and the window at any moment, so each is read once and the decision is
        // made against one version of them.
        CircuitPolicy policy = Volatile.Read(ref _policy);
        int consecutive = closed.AddFailure();
        if (policy.FailureThreshold > 0 && consecutive >= policy.FailureThreshold)
        {
            if (TryOpen(closed, consecutive, retryAfter, CircuitTransitionReason.FailureThreshold) is { } opened)
            {
                Log.Opened(_logger, ClientName, Name, consecutive, opened.ProbeAt.GetValueOrDefault());
            }

            return;
        }

        if (closed.Window is not { } window || policy.FailureRatio is not { } ratio)
        {
            return;
        }

        (int failures, int throughput) = window.AddFailure();
        if (throughput >= policy.MinimumThroughput && (double)failures / throughput >= ratio)
        {
            if (TryOpen(closed, consecutive, retryAfter, CircuitTransitionReason.FailureRatio) is { } opened)
            {
                Log.OpenedByRatio(_logger, ClientName, Name, failures, throughput, policy.SamplingDuration, opened.ProbeAt.GetValueOrDefault());
            }
        }
    }

    /// <summary>Opens a closed circuit and returns the open phase, or <see langword="null"/> when another thread changed the state first.</summary>
    private OpenPhase? TryOpen(ClosedPhase closed, int consecutiveFailures, TimeSpan? retryAfter, CircuitTransitionReason reason)
    {
        if (!ReferenceEquals(Volatile.Read(ref _phase), closed))
        {
            return null;
        }

        (TimeSpan baseBreak, TimeSpan breakDuration) = ComputeBreak(previousBase: null, retryAfter);
        OpenPhase open = CreateOpenPhase(consecutiveFailures, TimeSpan.Zero, breakDuration, baseBreak);
        return TryTransition(closed, open, reason) ? open : null;
    }

    private void RecordProbe(HalfOpenPhase halfOpen, in Admission admission, CircuitBreakerOutcome outcome, TimeSpan? retryAfter)
    {
        // A probe that outlived the probe timeout has already failed, even when no request noticed it yet, so its
        // late result cannot close the circuit.
        if (!ReferenceEquals(Volatile.Read(ref _phase), halfOpen) || TryExpireProbe(halfOpen, _timeProvider.GetTimestamp()))
        {
            return;
        }

        if (outcome == CircuitBreakerOutcome.Failure)
        {
            if (TryReopen(halfOpen, TimeSpan.Zero, retryAfter, CircuitTransitionReason.ProbeFailed) is { } reopened)
            {
                Log.ProbeFailed(_logger, ClientName, Name, reopened.ProbeAt.GetValueOrDefault());
            }

            return;
        }

        // An ignored outcome, such as a 4xx, still shows that the upstream responds.
        if (halfOpen.AddSuccess() >= _policy.ProbeSuccessThreshold)
        {
            if (TryClose(halfOpen, CircuitTransitionReason.ProbeSucceeded))
            {
                Log.Closed(_logger, ClientName, Name);
            }

            return;
        }

        halfOpen.ReleaseSlot(admission.ProbeSlot, admission.StartTimestamp);
    }

    /// <summary>
    /// Reopens a half-open circuit whose oldest probe has run past <see cref="CircuitPolicy.ProbeTimeout"/>. The
    /// break counts from the moment the probe expired, not from when a request noticed it.
    /// </summary>
    /// <returns><see langword="true"/> when a probe had expired, whichever request reopened the circuit.</returns>
    private bool TryExpireProbe(HalfOpenPhase halfOpen, long now)
    {
        if (halfOpen.GetOldestProbeStart() is not { } oldest)
        {
            return false;
        }

        TimeSpan overdue = _timeProvider.GetElapsedTime(oldest, now) - _policy.ProbeTimeout;
        if (overdue < TimeSpan.Zero)
        {
            return false;
        }

        if (TryReopen(halfOpen, overdue, retryAfter: null, CircuitTransitionReason.ProbeTimedOut) is { } reopened)
        {
            Log.ProbeTimedOut(_logger, ClientName, Name, _policy.ProbeTimeout, reopened.ProbeAt.GetValueOrDefault());
        }

        return true;
    }

    /// <summary>Reopens a half-open circuit, dated <paramref name="ago"/> before now.</summary>
    private OpenPhase? TryReopen(HalfOpenPhase halfOpen, TimeSpan ago, TimeSpan? retryAfter, CircuitTransitionReason reason)
    {
        (TimeSpan baseBreak, TimeSpan breakDuration) = ComputeBreak(halfOpen.BaseBreak, retryAfter);
        OpenPhase reopened = CreateOpenPhase(halfOpen.ConsecutiveFailures + 1, ago, breakDuration, baseBreak);
        return TryTransition(halfOpen, reopened, reason) ? reopened : null;
    }

    /// <summary>
    /// Creates an open phase that began <paramref name="ago"/> before now and lasts <paramref name="breakDuration"/>,
    /// timed on the monotonic clock and described in wall-clock time.
    /// </summary>
    private OpenPhase CreateOpenPhase(int consecutiveFailures, TimeSpan ago, TimeSpan breakDuration, TimeSpan baseBreak)
    {
        DateTimeOffset openedAt = _timeProvider.GetUtcNow() - ago;
        long probeAtTimestamp = _timeProvider.GetTimestamp() + _timeProvider.ToTimestampTicks(breakDuration - ago);
        return new OpenPhase(consecutiveFailures, openedAt, openedAt + breakDuration, probeAtTimestamp, baseBreak);
    }

    /// <summary>
    /// Computes the next break: the base break grows by the multiplier on each reopening, up to the maximum;
    /// jitter spreads it; an upstream <c>Retry-After</c> can only lengthen it, and never past the maximum.
    /// </summary>
    /// <param name="previousBase">The base break of the phase being reopened, or <see langword="null"/> after a close.</param>
    /// <param name="retryAfter">The upstream's requested delay, if any.</param>
    private (TimeSpan BaseBreak, TimeSpan Break) ComputeBreak(TimeSpan? previousBase, TimeSpan? retryAfter)
    {
        CircuitPolicy policy = Volatile.Read(ref _policy);
        TimeSpan max = policy.MaxBreakDuration;
        // A reload can raise BreakDuration above a base that grew from the old value; the base never falls below it.
        TimeSpan baseBreak = previousBase is { } previous
            ? Max(Min(previous * policy.BreakDurationMultiplier, max), policy.BreakDuration)
            : policy.BreakDuration;

        TimeSpan breakDuration = baseBreak;
        if (policy.BreakDurationJitter > 0)
        {
            double factor = 1 + (policy.BreakDurationJitter * ((2 * _random.NextDouble()) - 1));
            breakDuration = Min(baseBreak * factor, max);
            if (breakDuration < CircuitBreakerDefaults.MinDuration)
            {
                breakDuration = CircuitBreakerDefaults.MinDuration;
            }
        }

        if (policy.HonorRetryAfter && retryAfter is { } requested && requested > breakDuration)
        {
            breakDuration = Min(requested, max);
        }

        return (baseBreak, breakDuration);
    }

    private ClosedPhase CreateClosedPhase() => new(CreateWindow(Volatile.Read(ref _policy), previous: null));

    /// <summary>
    /// Creates the window of a closed phase, or <see langword="null"/> when the ratio rule is off. A window that
    /// replaces another on reload starts with the other's counts, so a reload does not forget recent failures.
    /// </summary>
    private RollingWindow? CreateWindow(CircuitPolicy policy, RollingWindow? previous)
    {
        if (policy.FailureRatio is null)
        {
            return null;
        }

        var window = new RollingWindow(policy.SamplingDuration, CircuitBreakerDefaults.WindowBuckets, _timeProvider);
        if (previous is not null)
        {
            window.CarryOver(previous);
        }

        return window;
    }

    /// <summary>
    /// Swaps in the next phase if the current one is still <paramref name="expected"/>, and reports the change.
    /// </summary>
    /// <remarks>
    /// Transitions are rare and never on the closed path, so they share a lock that makes the swap and the report
    /// one step: two racing transitions of this circuit are then reported in the order they happened. Readers never
    /// take the lock.
    /// </remarks>
    private bool TryTransition(CircuitPhase expected, CircuitPhase next, CircuitTransitionReason reason)
    {
        lock (_transitionGate)
        {
            if (!ReferenceEquals(Interlocked.CompareExchange(ref _phase, next, expected), expected))
            {
                return false;
            }

            _events?.OnTransition(this, expected.State, next.State, reason, _timeProvider.GetUtcNow());
            return true;
        }
    }

    /// <summary>
    /// Closes the circuit if it is still in <paramref name="expected"/>. The closed phase is built under the
    /// transition lock, which <see cref="UpdatePolicy"/> also takes, so its window fits the policy in force at the
    /// swap even when a reload lands between the caller's decision and the swap.
    /// </summary>
    private bool TryClose(CircuitPhase expected, CircuitTransitionReason reason)
    {
        lock (_transitionGate)
        {
            return TryTransition(expected, CreateClosedPhase(), reason);
        }
    }

    private static TimeSpan Min(TimeSpan left, TimeSpan right) => left < right ? left : right;

    private static TimeSpan Max(TimeSpan left, TimeSpan right) => left > right ? left : right;

}
