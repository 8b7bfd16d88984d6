using Microsoft.Extensions.Logging;

namespace HttpBreaker.Internal;

/// <summary>
/// The state machine of one circuit. Handlers admit requests through it and report each outcome back with the
/// phase the request was admitted in. The registry owns it, so it outlives every handler.
/// </summary>
/// <remarks>
/// All state is one reference to an immutable-by-state <see cref="CircuitPhase"/>, replaced by compare-and-swap.
/// The closed path reads that reference and touches a counter only on failure, so it takes no lock. A transition
/// succeeds only from the phase it was computed from, which is how a result from an older phase is kept from
/// changing the state.
/// </remarks>
internal sealed class Circuit
{
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly int _failureThreshold;
    private readonly TimeSpan _breakDuration;
    private CircuitPhase _phase = CircuitPhase.Closed();

    public Circuit(string name, CircuitBreakerOptions options, TimeProvider timeProvider, ILogger logger)
    {
        Name = name;
        _failureThreshold = options.FailureThreshold;
        _breakDuration = options.BreakDuration;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public string Name { get; }

    public TimeProvider TimeProvider => _timeProvider;

    internal CircuitPhase CurrentPhase => Volatile.Read(ref _phase);

    /// <summary>
    /// Decides whether a request may be sent.
    /// </summary>
    /// <param name="phase">
    /// When admitted, the phase to pass back with the outcome; otherwise the phase that rejected the request.
    /// </param>
    /// <returns><see langword="true"/> when the request may be sent.</returns>
    public bool TryAdmit(out CircuitPhase phase)
    {
        phase = Volatile.Read(ref _phase);

        return phase.State == CircuitState.Closed || TryAdmitWhileNotClosed(ref phase);
    }

    public void RecordResponse(CircuitPhase admittedIn, HttpResponseMessage? response)
    {
        // A null response comes from a broken handler below this one. HttpClient reports it to the caller, and
        // it is no evidence about the upstream.
        int status = response is null ? 0 : (int)response.StatusCode;

        if (status >= 500)
        {
            RecordFailure(admittedIn);
        }
        else if (status >= 400)
        {
            RecordClientError(admittedIn);
        }
        else if (status > 0)
        {
            RecordSuccess(admittedIn);
        }
        else
        {
            RecordCancelled(admittedIn);
        }
    }

    public void RecordSuccess(CircuitPhase admittedIn)
    {
        switch (admittedIn.State)
        {
            case CircuitState.Closed:
                admittedIn.ResetFailures();
                break;
            case CircuitState.HalfOpen:
                TryTransition(admittedIn, CircuitPhase.Closed(), TransitionReason.ProbeSucceeded);
                break;
        }
    }

    /// <summary>
    /// Records a 4xx response: the upstream is alive and the request was wrong, so a closed circuit keeps its
    /// count as it is, while a probe has shown that the upstream responds and closes the circuit.
    /// </summary>
    public void RecordClientError(CircuitPhase admittedIn)
    {
        if (admittedIn.State == CircuitState.HalfOpen)
        {
            TryTransition(admittedIn, CircuitPhase.Closed(), TransitionReason.ProbeSucceeded);
        }
    }

    public void RecordFailure(CircuitPhase admittedIn)
    {
        switch (admittedIn.State)
        {
            case CircuitState.Closed:
                int failures = admittedIn.AddFailure();
                if (failures >= _failureThreshold && ReferenceEquals(Volatile.Read(ref _phase), admittedIn))
                {
                    DateTimeOffset now = _timeProvider.GetUtcNow();
                    CircuitPhase open = CircuitPhase.Open(failures, now, now + _breakDuration);
                    TryTransition(admittedIn, open, TransitionReason.FailureThreshold);
                }

                break;
            case CircuitState.HalfOpen:
                DateTimeOffset reopenedAt = _timeProvider.GetUtcNow();
                CircuitPhase reopened = CircuitPhase.Open(admittedIn.ConsecutiveFailures + 1, reopenedAt, reopenedAt + _breakDuration);
                TryTransition(admittedIn, reopened, TransitionReason.ProbeFailed);
                break;
        }
    }

    /// <summary>
    /// Records a request that ended without an outcome, such as one its caller cancelled. A probe gives its slot
    /// back, so the next request probes instead and the circuit cannot stay half-open for good.
    /// </summary>
    public void RecordCancelled(CircuitPhase admittedIn)
    {
        if (admittedIn.State == CircuitState.HalfOpen && ReferenceEquals(Volatile.Read(ref _phase), admittedIn))
        {
            admittedIn.ReleaseProbeSlot();
        }
    }

    public void Isolate()
    {
        while (true)
        {
            CircuitPhase current = Volatile.Read(ref _phase);
            if (current.State == CircuitState.Isolated)
            {
                return;
            }

            CircuitPhase isolated = CircuitPhase.Isolated(current.ConsecutiveFailures, _timeProvider.GetUtcNow());
            if (TryTransition(current, isolated, TransitionReason.Isolated))
            {
                return;
            }
        }
    }

    public void Reset()
    {
        while (!TryTransition(Volatile.Read(ref _phase), CircuitPhase.Closed(), TransitionReason.Reset))
        {
        }
    }

    public CircuitSnapshot GetSnapshot()
    {
        CircuitPhase phase = Volatile.Read(ref _phase);

        return new CircuitSnapshot
        {
            Name = Name,
            State = phase.State,
            ConsecutiveFailures = phase.ConsecutiveFailures,
            OpenedAt = phase.OpenedAt,
            NextProbeAt = phase.ProbeAt,
        };
    }

    private bool TryAdmitWhileNotClosed(ref CircuitPhase phase)
    {
        while (true)
        {
            switch (phase.State)
            {
                case CircuitState.Closed:
                    return true;
                case CircuitState.HalfOpen:
                    return phase.TryTakeProbeSlot();
                case CircuitState.Isolated:
                    return false;
            }

            if (_timeProvider.GetUtcNow() < phase.ProbeAt)
            {
                return false;
            }

            // The break is over: the request that wins the swap to half-open is the probe, and a loser looks
            // again at whatever phase won.
            CircuitPhase halfOpen = CircuitPhase.HalfOpenWithProbe(phase);
            if (TryTransition(phase, halfOpen, TransitionReason.BreakElapsed))
            {
                phase = halfOpen;
                return true;
            }

            phase = Volatile.Read(ref _phase);
        }
    }

    private bool TryTransition(CircuitPhase expected, CircuitPhase next, TransitionReason reason)
    {
        if (!ReferenceEquals(Interlocked.CompareExchange(ref _phase, next, expected), expected))
        {
            return false;
        }

        LogTransition(expected, next, reason);
        return true;
    }

    private void LogTransition(CircuitPhase from, CircuitPhase to, TransitionReason reason)
    {
        switch (reason)
        {
            case TransitionReason.FailureThreshold:
                Log.Opened(_logger, Name, to.ConsecutiveFailures, _breakDuration, to.ProbeAt.GetValueOrDefault());
                break;
            case TransitionReason.ProbeFailed:
                Log.ProbeFailed(_logger, Name, _breakDuration, to.ProbeAt.GetValueOrDefault());
                break;
            case TransitionReason.BreakElapsed:
                Log.HalfOpen(_logger, Name);
                break;
            case TransitionReason.ProbeSucceeded:
                Log.Closed(_logger, Name);
                break;
            case TransitionReason.Isolated:
                Log.Isolated(_logger, Name, from.State);
                break;
            case TransitionReason.Reset:
                Log.Reset(_logger, Name, from.State);
                break;
        }
    }
}
