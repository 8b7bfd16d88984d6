namespace HttpBreaker.Internal;

/// <summary>
/// Success and failure counts over a sliding time window, kept in a ring of buckets so that old outcomes age out
/// one bucket at a time and recording costs one atomic increment.
/// </summary>
/// <remarks>
/// Each bucket object belongs to one bucket-wide slice of time, its epoch. A recorder that finds a stale bucket in
/// the ring swaps in a fresh one, so no counter is ever reset in place. An increment that races the swap can land
/// in the replaced bucket and be lost, but only when that bucket's slice is already ending.
/// </remarks>
internal sealed class RollingWindow
{
    private readonly Bucket?[] _buckets;
    private readonly TimeProvider _timeProvider;
    private readonly long _bucketWidth;

    public RollingWindow(TimeSpan samplingDuration, int bucketCount, TimeProvider timeProvider)
    {
        _buckets = new Bucket?[bucketCount];
        _timeProvider = timeProvider;

        double ticksPerSecond = timeProvider.TimestampFrequency;
        _bucketWidth = Math.Max(1, (long)(samplingDuration.TotalSeconds * ticksPerSecond / bucketCount));
    }

    public void AddSuccess() => Interlocked.Increment(ref GetCurrentBucket().Successes);

    /// <summary>
    /// Records a failure and returns the totals of the window that includes it.
    /// </summary>
    public (int Failures, int Throughput) AddFailure()
    {
        long epoch = GetEpoch();
        Interlocked.Increment(ref GetBucket(epoch).Failures);

        (int failures, int successes) = GetTotals(epoch);
        return (failures, failures + successes);
    }

    /// <summary>
    /// Adds the counts that another window holds now to the current bucket of this one, so that a window resized
    /// by a reload starts from what the old one had seen. The counts then age out as one bucket.
    /// </summary>
    public void CarryOver(RollingWindow previous)
    {
        (int failures, int successes) = previous.GetTotals(previous.GetEpoch());
        Bucket bucket = GetCurrentBucket();
        Interlocked.Add(ref bucket.Failures, failures);
        Interlocked.Add(ref bucket.Successes, successes);
    }

    private (int Failures, int Successes) GetTotals(long epoch)
    {
        int failures = 0;
        int successes = 0;
        foreach (Bucket? bucket in _buckets)
        {
            if (bucket is not null && bucket.Epoch > epoch - _buckets.Length)
            {
                failures += Volatile.Read(ref bucket.Failures);
                successes += Volatile.Read(ref bucket.Successes);
            }
        }

        return (failures, successes);
    }

    private Bucket GetCurrentBucket() => GetBucket(GetEpoch());

    private long GetEpoch() => _timeProvider.GetTimestamp() / _bucketWidth;

    private Bucket GetBucket(long epoch)
    {
        ref Bucket? slot = ref _buckets[(int)(epoch % _buckets.Length)];
        while (true)
        {
            Bucket? current = Volatile.Read(ref slot);
            if (current is not null && current.Epoch >= epoch)
            {
                // A bucket newer than this epoch means the caller's clock reading is already a slice old. Its
                // outcome goes into the newer bucket rather than being dropped.
                return current;
            }

            var fresh = new Bucket(epoch);
            if (ReferenceEquals(Interlocked.CompareExchange(ref slot, fresh, current), current))
            {
                return fresh;
            }
        }
    }

    private sealed class Bucket(long epoch)
    {
        public readonly long Epoch = epoch;
        public int Successes;
        public int Failures;
    }
}
