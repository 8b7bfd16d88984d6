namespace HttpBreaker.Internal;

/// <summary>
/// The transitions that a coordinator applies when the state shared between instances changed elsewhere. Each
/// reports through the event sink like a local transition, except for the silent replacement of one open phase by
/// another, which is no change of state.
/// </summary>
internal sealed partial class Circuit
{
    /// <summary>
    /// Opens the circuit, or moves the end of its current break, so that it opened <paramref name="openedAgo"/>
    /// before now and admits a probe <paramref name="remaining"/> from now. An isolated circuit stays isolated.
    /// </summary>
    public void ApplyOpen(TimeSpan openedAgo, TimeSpan remaining, int consecutiveFailures, TimeSpan baseBreak, CircuitTransitionReason reason)
    {
        openedAgo = openedAgo < TimeSpan.Zero ? TimeSpan.Zero : openedAgo;
        remaining = remaining < TimeSpan.Zero ? TimeSpan.Zero : remaining;

        while (true)
        {
            CircuitPhase current = Volatile.Read(ref _phase);
            if (current is IsolatedPhase)
            {
                return;
            }

            OpenPhase open = CreateOpenPhase(consecutiveFailures, openedAgo, openedAgo + remaining, baseBreak);
            if (current is OpenPhase)
            {
                if (ReferenceEquals(Interlocked.CompareExchange(ref _phase, open, current), current))
                {
                    return;
                }

                continue;
            }

            if (TryTransition(current, open, reason))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Closes the circuit after the shared circuit closed. An isolated circuit stays isolated unless
    /// <paramref name="reason"/> is <see cref="CircuitTransitionReason.Manual"/>.
    /// </summary>
    public void ApplyClosed(CircuitTransitionReason reason)
    {
        while (true)
        {
            CircuitPhase current = Volatile.Read(ref _phase);
            if (current is ClosedPhase || (current is IsolatedPhase && reason != CircuitTransitionReason.Manual))
            {
                return;
            }

            if (TryTransition(current, CreateClosedPhase(), reason))
            {
                Log.Closed(_logger, ClientName, Name);
                return;
            }
        }
    }

    /// <summary>
    /// Moves an open circuit to half-open without asking the probe gate, after this instance won the shared probe.
    /// </summary>
    /// <returns><see langword="false"/> when the circuit is no longer in <paramref name="open"/>.</returns>
    public bool TryApplyHalfOpen(OpenPhase open)
    {
        if (!TryTransition(open, new HalfOpenPhase(open, _policy.PermittedProbes), CircuitTransitionReason.BreakElapsed))
        {
            return false;
        }

        Log.HalfOpen(_logger, ClientName, Name, _policy.PermittedProbes);
        return true;
    }
}
