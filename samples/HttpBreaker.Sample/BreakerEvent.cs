namespace HttpBreaker.Sample;

/// <summary>
/// One event from the breaker's log that the sample prints: a state change, an attempt that the breaker timed
/// out, or an outcome classifier that threw.
/// </summary>
/// <param name="EventId">The library's event id, such as 8 for an opening by the failure ratio.</param>
/// <param name="NewState">The state the circuit moved to, or <see langword="null"/> when the event changes no state.</param>
/// <param name="Description">A short account of the event, such as "circuit opened after 3 consecutive failures".</param>
internal sealed record BreakerEvent(int EventId, CircuitState? NewState, string Description)
{
    /// <summary>
    /// The break that an opening or reopening started, from the registry snapshot taken after the request
    /// (<see cref="CircuitSnapshot.NextProbeAt"/> minus <see cref="CircuitSnapshot.OpenedAt"/>), or
    /// <see langword="null"/> for other events.
    /// </summary>
    public TimeSpan? BreakDuration { get; init; }
}
