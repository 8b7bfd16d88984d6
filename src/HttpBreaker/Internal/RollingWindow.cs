using System.Numerics;

namespace HttpBreaker.Internal;

/// <summary>
/// Success and failure counts over a sliding time window, kept in a ring of buckets so that old outcomes age out
/// one bucket at a time and recording costs one atomic increment.
/// </summary>
/// <remarks>
/// <para>
/// Successes, which every request of a healthy upstream records, are counted in one stripe per processor (up to
/// <see cref="MaxStripes"/>), each on its own cache line, so that callers on different processors do not contend
/// for one counter. Failures, rare while the circuit is closed, share one counter, and recording one sums the stripes.
/// </para>
/// <para>
/// Each bucket object belongs to one bucket-wide slice of time, its epoch. A recorder that finds a stale bucket in
/// the ring swaps in a fresh one, so no counter is ever reset in place. An increment that races the swap can land
/// in the replaced bucket and be lost, but only when that bucket's slice is already ending.
/// </para>
/// </remarks>
internal sealed class RollingWindow
{
    /// <summary>The most stripes a bucket has, which bounds a window's memory on machines with many processors.</summary>
    private const int MaxStripes = 8;

    /// <summary>Counters per stripe: 16 ints fill a 64-byte cache line.</summary>
    private const int StripeWidth = 16;

    private static readonly int s_stripeMask = (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount), MaxStripes) - 1;

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

    public void AddSuccess() => GetCurrentBucket().AddSuccess();

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
    /// Adds the counts that another window contains now to the current bucket of this one, so that a window resized
    /// by a reload starts from what the old one had seen. The counts then age out as one bucket.
    /// </summary>
    public void CarryOver(RollingWindow previous)
    {
        (int failures, int successes) = previous.GetTotals(previous.GetEpoch());
        Bucket bucket = GetCurrentBucket();
        Interlocked.Add(ref bucket.Failures, failures);
        bucket.AddSuccesses(successes);
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
                successes += bucket.CountSuccesses();
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
        public int Failures;

        // Stripe i counts at index (i + 1) * StripeWidth, so no stripe shares a cache line with another stripe or with
        // the array's header.
        private readonly int[] _successes = new int[(s_stripeMask + 2) * StripeWidth];

        public void AddSuccess() =>
            Interlocked.Increment(ref _successes[((Thread.GetCurrentProcessorId() & s_stripeMask) + 1) * StripeWidth]);

        public void AddSuccesses(int count) => Interlocked.Add(ref _successes[StripeWidth], count);

        public int CountSuccesses()
        {
            int successes = 0;
            for (int stripe = 0; stripe <= s_stripeMask; stripe++)
            {
                successes += Volatile.Read(ref _successes[(stripe + 1) * StripeWidth]);
            }

            return successes;
        }
    }
}
