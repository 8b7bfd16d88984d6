namespace HttpBreaker.Sample;

/// <summary>
/// The sequence of circuit states observed during a run, with repeats of the same state merged.
/// </summary>
internal sealed class StateTimeline
{
    private readonly List<CircuitState> _states = [];

    public static string Format(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        CircuitState.Isolated => "isolated",
        _ => state.ToString(),
    };

    public void Observe(CircuitState state)
    {
        if (_states.Count == 0 || _states[^1] != state)
        {
            _states.Add(state);
        }
    }

    /// <summary>
    /// Tells whether the circuit went closed, open, half-open and then closed, in that order. Only a half-open
    /// state followed directly by closed counts, because that is a successful probe. A failed probe is followed by
    /// open again, and the search goes on to the next probe.
    /// </summary>
    public bool HasFullCycle()
    {
        int step = 0;
        foreach (CircuitState state in _states)
        {
            step = (step, state) switch
            {
                (0, CircuitState.Closed) => 1,
                (1, CircuitState.Open) => 2,
                (2, CircuitState.HalfOpen) => 3,
                (3, CircuitState.Closed) => 4,
                (3, _) => 2,
                _ => step,
            };
        }

        return step == 4;
    }

    public override string ToString() => string.Join(" -> ", _states.Select(Format));
}
