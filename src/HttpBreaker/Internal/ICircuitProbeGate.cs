namespace HttpBreaker.Internal;

/// <summary>
/// Decides whether an open circuit whose break has ended may go half-open, for circuits whose probe is shared
/// between instances.
/// </summary>
internal interface ICircuitProbeGate
{
    /// <summary>
    /// Returns whether <paramref name="circuit"/>, still in <paramref name="open"/>, may go half-open now. It runs
    /// on the request path, so it must not block: a decision that needs a remote store is started in the background,
    /// and this call returns <see langword="false"/> until it is made.
    /// </summary>
    bool TryEnterHalfOpen(Circuit circuit, OpenPhase open);
}
