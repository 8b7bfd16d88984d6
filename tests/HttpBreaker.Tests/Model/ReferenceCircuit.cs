namespace HttpBreaker.Tests.Model;

/// <summary>
/// A single-threaded reference implementation of the documented circuit rules, written from the option docs rather
/// than from the real circuit, so that a randomized test can compare the two after every step.
/// </summary>
/// <remarks>
/// Every field is plain and every rule is applied in one obvious place. The generation counter goes up on every
/// state change, and a ticket whose generation is older than the current one changes nothing.
/// </remarks>
internal sealed class ReferenceCircuit
{
    /// <summary>The number of slices the sampling window is split into, as the <see cref="CircuitBreakerOptions.SamplingDuration"/> docs state.</summary>
    private const int WindowSlices = 10;

    private static readonly TimeSpan MinBreak = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan DefaultMaxBreak = TimeSpan.FromMinutes(5);

    private readonly CircuitBreakerOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly TimeSpan _maxBreak;
    private readonly int _probeSuccessesToClose;
    private readonly long _sliceWidth;

    /// <summary>The outcomes of the ratio window, each with the slice of time it was recorded in.</summary>
    private readonly List<(long Slice, bool Failed)> _window = [];

    /// <summary>The probes of the current half-open state that have neither completed nor been cancelled.</summary>
    private readonly List<ReferenceTicket> _probesInFlight = [];

    private int _generation;
    private long _nextTicketId;
    private int _probeSuccesses;

    /// <summary>The break before jitter and Retry-After of the current open or half-open state, which a reopening multiplies.</summary>
    private TimeSpan _baseBreak;

    public ReferenceCircuit(CircuitBreakerOptions options, TimeProvider time, Random random)
    {
        _options = options;
        _time = time;
        _random = random;
        _maxBreak = options.MaxBreakDuration ?? (options.BreakDuration > DefaultMaxBreak ? options.BreakDuration : DefaultMaxBreak);
        _probeSuccessesToClose = options.ProbeSuccessThreshold ?? options.PermittedProbes;

        // The real window works in timestamp ticks, so the slice width is computed the same way to put every
        // outcome in the same slice.
        _sliceWidth = Math.Max(1, (long)(options.SamplingDuration.TotalSeconds * time.TimestampFrequency / WindowSlices));
    }

    public CircuitState State { get; private set; } = CircuitState.Closed;

    public int ConsecutiveFailures { get; private set; }

    public DateTimeOffset? OpenedAt { get; private set; }

    public DateTimeOffset? NextProbeAt { get; private set; }

    /// <summary>Gets when the oldest probe in flight times out, or <see langword="null"/> when none is in flight.</summary>
    public DateTimeOffset? OldestProbeExpiry =>
        _probesInFlight.Count == 0 ? null : _probesInFlight.Min(probe => probe.Start) + _options.ProbeTimeout;

    /// <summary>Gets the start of the next slice of the ratio window, when outcomes age out.</summary>
    public DateTimeOffset NextSliceStart
    {
        get
        {
            long nextSliceTimestamp = (CurrentSlice() + 1) * _sliceWidth;
            long ticksAhead = nextSliceTimestamp - _time.GetTimestamp();
            return _time.GetUtcNow() + TimeSpan.FromTicks(ticksAhead * TimeSpan.TicksPerSecond / _time.TimestampFrequency);
        }
    }

    /// <summary>
    /// Decides whether a request may be sent, moving an open circuit whose break is over to half-open first.
    /// </summary>
    public bool TryAdmit(out ReferenceTicket ticket)
    {
        DateTimeOffset now = _time.GetUtcNow();
        switch (State)
        {
            case CircuitState.Closed:
                ticket = NewTicket(isProbe: false, now);
                return true;

            case CircuitState.Open when now >= NextProbeAt:
                EnterHalfOpen();
                return TryAdmit(out ticket);

            case CircuitState.HalfOpen:
                if (OldestProbeExpiry is { } expiry && now >= expiry)
                {
                    // The reopening dates from the expiry, so a long enough wait may have ended its break too, and
                    // the recursive call then lets this request probe the next half-open state.
                    Reopen(expiry, retryAfter: null);
                    return TryAdmit(out ticket);
                }

                if (_probesInFlight.Count < _options.PermittedProbes)
                {
                    ticket = NewTicket(isProbe: true, now);
                    _probesInFlight.Add(ticket);
                    return true;
                }

                break;
        }

        ticket = default;
        return false;
    }

    public void Record(ReferenceTicket ticket, CircuitBreakerOutcome outcome, TimeSpan? retryAfter)
    {
        if (ticket.Generation != _generation)
        {
            return;
        }

        if (State == CircuitState.Closed)
        {
            RecordWhileClosed(outcome, retryAfter);
        }
        else if (State == CircuitState.HalfOpen && ticket.IsProbe && !ReopenIfProbeExpired())
        {
            RecordProbe(ticket, outcome, retryAfter);
        }
    }

    public void Cancel(ReferenceTicket ticket)
    {
        if (ticket.Generation == _generation && State == CircuitState.HalfOpen && !ReopenIfProbeExpired())
        {
            _probesInFlight.Remove(ticket);
        }
    }

    public void Isolate()
    {
        // Isolating an isolated circuit keeps the time it was first isolated.
        if (State == CircuitState.Isolated)
        {
            return;
        }

        ChangeState(CircuitState.Isolated);
        OpenedAt = _time.GetUtcNow();
        NextProbeAt = null;
    }

    public void Reset() => Close();

    private void RecordWhileClosed(CircuitBreakerOutcome outcome, TimeSpan? retryAfter)
    {
        switch (outcome)
        {
            case CircuitBreakerOutcome.Success:
                ConsecutiveFailures = 0;
                if (_options.FailureRatio is not null)
                {
                    _window.Add((CurrentSlice(), false));
                }

                return;

            case CircuitBreakerOutcome.Failure:
                ConsecutiveFailures++;
                if (_options.FailureThreshold > 0 && ConsecutiveFailures >= _options.FailureThreshold)
                {
                    Open(retryAfter);
                    return;
                }

                if (_options.FailureRatio is { } ratio)
                {
                    _window.Add((CurrentSlice(), true));
                    (int failures, int total) = CountWindow();
                    if (total >= _options.MinimumThroughput && (double)failures / total >= ratio)
                    {
                        Open(retryAfter);
                    }
                }

                return;

            default:
                return;
        }
    }

    /// <summary>
    /// Reopens the circuit, dated from the expiry, when the oldest probe in flight has outlived the probe timeout.
    /// </summary>
    private bool ReopenIfProbeExpired()
    {
        if (OldestProbeExpiry is { } expiry && _time.GetUtcNow() >= expiry)
        {
            Reopen(expiry, retryAfter: null);
            return true;
        }

        return false;
    }

    private void RecordProbe(ReferenceTicket probe, CircuitBreakerOutcome outcome, TimeSpan? retryAfter)
    {
        if (outcome == CircuitBreakerOutcome.Failure)
        {
            Reopen(_time.GetUtcNow(), retryAfter);
            return;
        }

        // Success and Ignored both show that the upstream responds.
        _probeSuccesses++;
        if (_probeSuccesses >= _probeSuccessesToClose)
        {
            Close();
            return;
        }

        _probesInFlight.Remove(probe);
    }

    /// <summary>Counts the failures and all outcomes in the ten slices up to and including the current one.</summary>
    private (int Failures, int Total) CountWindow()
    {
        long oldestCounted = CurrentSlice() - WindowSlices + 1;
        _window.RemoveAll(entry => entry.Slice < oldestCounted);
        return (_window.Count(entry => entry.Failed), _window.Count);
    }

    private long CurrentSlice() => _time.GetTimestamp() / _sliceWidth;

    private void Open(TimeSpan? retryAfter)
    {
        // The count stays at the failures that tripped the circuit.
        DateTimeOffset now = _time.GetUtcNow();
        ChangeState(CircuitState.Open);
        _baseBreak = _options.BreakDuration;
        OpenedAt = now;
        NextProbeAt = now + ApplyJitterAndRetryAfter(_baseBreak, retryAfter);
    }

    private void Reopen(DateTimeOffset at, TimeSpan? retryAfter)
    {
        ChangeState(CircuitState.Open);
        ConsecutiveFailures++;
        TimeSpan grown = _baseBreak * _options.BreakDurationMultiplier;
        _baseBreak = grown < _maxBreak ? grown : _maxBreak;
        OpenedAt = at;
        NextProbeAt = at + ApplyJitterAndRetryAfter(_baseBreak, retryAfter);
    }

    private void EnterHalfOpen()
    {
        // The half-open state keeps the open state's OpenedAt, count and base break.
        ChangeState(CircuitState.HalfOpen);
        NextProbeAt = null;
    }

    private void Close()
    {
        ChangeState(CircuitState.Closed);
        ConsecutiveFailures = 0;
        OpenedAt = null;
        NextProbeAt = null;
        _window.Clear();
    }

    private TimeSpan ApplyJitterAndRetryAfter(TimeSpan baseBreak, TimeSpan? retryAfter)
    {
        TimeSpan breakDuration = baseBreak;
        double jitter = _options.BreakDurationJitter;
        if (jitter > 0)
        {
            double spread = 1 + (jitter * ((2 * _random.NextDouble()) - 1));
            TimeSpan spreadBreak = baseBreak * spread;
            breakDuration = spreadBreak < _maxBreak ? spreadBreak : _maxBreak;
            if (breakDuration < MinBreak)
            {
                breakDuration = MinBreak;
            }
        }

        if (_options.HonorRetryAfter && retryAfter is { } hint && hint > breakDuration)
        {
            breakDuration = hint < _maxBreak ? hint : _maxBreak;
        }

        return breakDuration;
    }

    private void ChangeState(CircuitState state)
    {
        State = state;
        _generation++;
        _probesInFlight.Clear();
        _probeSuccesses = 0;
    }

    private ReferenceTicket NewTicket(bool isProbe, DateTimeOffset now) => new(_nextTicketId++, _generation, isProbe, now);
}
