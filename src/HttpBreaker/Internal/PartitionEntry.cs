namespace HttpBreaker.Internal;

/// <summary>
/// A partition circuit with a lease count, so that eviction cannot race a request. A circuit is evicted only when
/// no request has leased it, and a request cannot lease a circuit that is being evicted.
/// </summary>
internal sealed class PartitionEntry
{
    private const int EvictedMark = -1;

    private int _inFlight;
    private long _lastUsed;

    /// <summary>Creates an entry already leased by the request that created it.</summary>
    public PartitionEntry(string key, Circuit circuit, long timestamp)
    {
        Key = key;
        Circuit = circuit;
        _inFlight = 1;
        _lastUsed = timestamp;
    }

    public string Key { get; }

    public Circuit Circuit { get; }

    /// <summary>Gets the <see cref="TimeProvider.GetTimestamp"/> reading of the last lease taken.</summary>
    public long LastUsed => Volatile.Read(ref _lastUsed);

    public bool IsInFlight => Volatile.Read(ref _inFlight) > 0;

    public bool TryAcquire(long timestamp)
    {
        while (true)
        {
            int inFlight = Volatile.Read(ref _inFlight);
            if (inFlight == EvictedMark)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inFlight, inFlight + 1, inFlight) == inFlight)
            {
                Volatile.Write(ref _lastUsed, timestamp);
                return true;
            }
        }
    }

    public void Release() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Marks the entry evicted if no request has leased it. While it is marked, <see cref="TryAcquire"/> fails.</summary>
    public bool TryMarkEvicted() => Interlocked.CompareExchange(ref _inFlight, EvictedMark, 0) == 0;

    /// <summary>Takes back a mark that the evicting thread decided against, before anyone else could see the entry gone.</summary>
    public void Unmark() => Volatile.Write(ref _inFlight, 0);
}
