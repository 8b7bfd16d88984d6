namespace HttpBreaker.Internal;

/// <summary>
/// A circuit held open by an operator until it is reset.
/// </summary>
internal sealed class IsolatedPhase(int consecutiveFailures, DateTimeOffset isolatedAt)
    : CircuitPhase(CircuitState.Isolated, isolatedAt, null)
{
    public override int ConsecutiveFailures { get; } = consecutiveFailures;
}
