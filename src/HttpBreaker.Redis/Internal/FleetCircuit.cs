namespace HttpBreaker.Redis.Internal;

/// <summary>
/// The last shared state that an instance read for one of its circuits, and the fleet work in progress for it.
/// </summary>
/// <remarks>
/// Fields written by the request path (the probe gate) are read and written atomically; the others are written only
/// by the client's single background loop.
/// </remarks>
internal sealed class FleetCircuit
{
    private object? _acquiringFor;
    private int _pendingManual;

    /// <summary>Gets or sets the version of the shared state last applied, or <see langword="null"/> before the first read.</summary>
    public long? KnownVersion { get; set; }

    /// <summary>Gets or sets the shared state last read, such as <see cref="FleetState.Closed"/>; <see langword="null"/> before the first read.</summary>
    public string? KnownState
    {
        get => Volatile.Read(ref field);
        set => Volatile.Write(ref field, value);
    }

    /// <summary>Gets or sets whether this instance won the probe lease and has not reported the probe's result yet.</summary>
    public bool HoldsLease
    {
        get => Volatile.Read(ref field);
        set => Volatile.Write(ref field, value);
    }

    public bool HasPendingManual => Volatile.Read(ref _pendingManual) > 0;

    /// <summary>
    /// Marks a lease request as started for an open phase.
    /// </summary>
    /// <returns><see langword="false"/> when one was already started for that phase.</returns>
    public bool TryStartAcquiring(object openPhase) => !ReferenceEquals(Interlocked.Exchange(ref _acquiringFor, openPhase), openPhase);

    public void FinishAcquiring() => Volatile.Write(ref _acquiringFor, null);

    public void AddPendingManual() => Interlocked.Increment(ref _pendingManual);

    public void RemovePendingManual() => Interlocked.Decrement(ref _pendingManual);
}
