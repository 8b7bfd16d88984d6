using System.Collections.Concurrent;

namespace HttpBreaker.Internal;

/// <summary>
/// The partition circuits of one client, bounded by <see cref="CircuitPolicy.MaxPartitions"/> and swept of idle
/// closed circuits.
/// </summary>
/// <remarks>
/// The count is kept beside the dictionary because <see cref="ConcurrentDictionary{TKey, TValue}.Count"/> takes
/// every lock of the dictionary. A new key first reserves a place in the count, so the table never contains more
/// circuits than the bound, even while many new keys arrive at once.
/// </remarks>
internal sealed class PartitionTable
{
    private readonly ConcurrentDictionary<string, PartitionEntry> _entries = new(StringComparer.Ordinal);
    private readonly ClientCircuits _client;
    private readonly TimeProvider _timeProvider;
    private int _maxPartitions;
    private long _idleTicks;
    private readonly object _evictionGate = new();
    private int _count;
    private long _nextSweep;

    public PartitionTable(ClientCircuits client, TimeProvider timeProvider)
    {
        _client = client;
        _timeProvider = timeProvider;
        UpdateLimits(client.Policy);
        _nextSweep = timeProvider.GetTimestamp() + (_idleTicks / 4);
    }

    public int Count => Volatile.Read(ref _count);

    public IEnumerable<PartitionEntry> Entries => _entries.Values;

    /// <summary>
    /// Leases the circuit of <paramref name="key"/>, creating it when needed.
    /// </summary>
    /// <returns>The leased entry, or <see langword="null"/> when the table is full of circuits that cannot be evicted.</returns>
    public PartitionEntry? Acquire(string key)
    {
        long now = _timeProvider.GetTimestamp();
        if (Volatile.Read(ref _idleTicks) > 0 && now >= Volatile.Read(ref _nextSweep))
        {
            SweepIdle(now);
        }

        var spin = default(SpinWait);
        while (true)
        {
            if (_entries.TryGetValue(key, out PartitionEntry? existing))
            {
                if (existing.TryAcquire(now))
                {
                    return existing;
                }

                // The evicting thread owns the entry for the few instructions between marking and removing it,
                // and may still take the mark back, so wait for it rather than remove the entry here.
                spin.SpinOnce();
                continue;
            }

            if (!TryReservePlace())
            {
                return null;
            }

            PartitionEntry created;
            bool createdIsolated;
            try
            {
                created = new PartitionEntry(key, _client.CreatePartitionCircuit(key, out createdIsolated), now);
            }
            catch
            {
                // A failure here, such as a logger that throws, must not cost the table a place for good.
                Interlocked.Decrement(ref _count);
                throw;
            }

            // Matching the client's isolation and adding form one step against Isolate and Reset of the whole
            // client, and the match comes first, so no reader of the table ever finds a new partition on the wrong
            // side of such a change.
            bool added;
            lock (_client.IsolationGate)
            {
                _client.MatchClient(created.Circuit, createdIsolated);
                added = _entries.TryAdd(key, created);
            }

            if (added)
            {
                return created;
            }

            // Another request added the key first; give the place back and lease its circuit instead.
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>
    /// Takes the bound and idle timeout of a reloaded policy. A lower bound than the current count is reached by
    /// evicting as new keys arrive, not at once.
    /// </summary>
    public void UpdateLimits(CircuitPolicy policy)
    {
        Volatile.Write(ref _maxPartitions, policy.MaxPartitions);
        long idleTicks = policy.PartitionIdleTimeout is { } idle ? _timeProvider.ToTimestampTicks(idle) : 0;

        // A sweep sets the next one from the timeout it read, so the two change together. A shorter timeout brings
        // the next sweep forward rather than waiting out the schedule of the longer one.
        lock (_evictionGate)
        {
            Volatile.Write(ref _idleTicks, idleTicks);
            long soonest = _timeProvider.GetTimestamp() + (idleTicks / 4);
            if (idleTicks > 0 && soonest < Volatile.Read(ref _nextSweep))
            {
                Volatile.Write(ref _nextSweep, soonest);
            }
        }
    }

    public bool TryGet(string key, out PartitionEntry? entry) => _entries.TryGetValue(key, out entry);

    private bool TryReservePlace()
    {
        while (true)
        {
            int count = Volatile.Read(ref _count);
            if (count < Volatile.Read(ref _maxPartitions))
            {
                if (Interlocked.CompareExchange(ref _count, count + 1, count) == count)
                {
                    return true;
                }

                continue;
            }

            if (!EvictForSpace())
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Evicts least recently used circuits, closed ones before open and half-open ones, down to seven eighths of the
    /// bound, so that a stream of new keys pays for one scan every few thousand keys rather than one per key.
    /// </summary>
    /// <returns><see langword="true"/> when there is room for a new circuit afterwards.</returns>
    private bool EvictForSpace()
    {
        lock (_evictionGate)
        {
            int maxPartitions = Volatile.Read(ref _maxPartitions);
            if (Volatile.Read(ref _count) < maxPartitions)
            {
                return true;
            }

            int target = Math.Min(maxPartitions - 1, maxPartitions - (maxPartitions / 8));
            PartitionEntry[] candidates = _entries.Values
                .Where(entry => entry.Circuit.CurrentPhase.State != CircuitState.Isolated && !entry.IsInFlight)
                .OrderBy(entry => entry.Circuit.CurrentPhase.State == CircuitState.Closed ? 0 : 1)
                .ThenBy(entry => entry.LastUsed)
                .ToArray();

            foreach (PartitionEntry candidate in candidates)
            {
                if (Volatile.Read(ref _count) <= target)
                {
                    break;
                }

                TryEvict(candidate);
            }

            return Volatile.Read(ref _count) < maxPartitions;
        }
    }

    private void SweepIdle(long now)
    {
        if (!Monitor.TryEnter(_evictionGate))
        {
            return;
        }

        try
        {
            // A reload can turn the timeout off between the caller's check and here; zero would evict everything.
            long idleTicks = Volatile.Read(ref _idleTicks);
            if (idleTicks <= 0)
            {
                return;
            }

            Volatile.Write(ref _nextSweep, now + Math.Max(1, idleTicks / 4));
            foreach (PartitionEntry entry in _entries.Values)
            {
                if (entry.Circuit.CurrentPhase.State == CircuitState.Closed && now - entry.LastUsed >= idleTicks)
                {
                    TryEvict(entry);
                }
            }
        }
        finally
        {
            Monitor.Exit(_evictionGate);
        }
    }

    /// <summary>
    /// Evicts an entry unless a request has leased it or it is isolated. The state is read after marking because the
    /// candidates were chosen earlier and an operator may have isolated the circuit since; isolating one partition
    /// takes a lease, so it cannot happen while the mark is set.
    /// </summary>
    private void TryEvict(PartitionEntry entry)
    {
        // The clock is read before marking, so that requests for this key wait on nothing slower than a queue write.
        DateTimeOffset timestamp = _client.GetUtcNow();
        if (!entry.TryMarkEvicted())
        {
            return;
        }

        CircuitState state = entry.Circuit.CurrentPhase.State;
        if (state == CircuitState.Isolated)
        {
            entry.Unmark();
            return;
        }

        // The change is reported before the entry leaves the table, so it is queued ahead of every change of the
        // next circuit for the same key, which can only be created after the removal.
        _client.ReportEvicted(entry.Circuit, state, timestamp);
        _entries.TryRemove(new KeyValuePair<string, PartitionEntry>(entry.Key, entry));
        Interlocked.Decrement(ref _count);
        _client.LogEvicted(entry.Circuit, state);
    }
}
