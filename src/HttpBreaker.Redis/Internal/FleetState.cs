using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// The shared state of one circuit as a script returned it. Durations are computed from Redis server time inside the
/// script, so they mean the same on every instance whatever its own clock reads.
/// </summary>
internal sealed class FleetState
{
    public const string Closed = "closed";
    public const string Open = "open";
    public const string Isolated = "isolated";

    public required string State { get; init; }

    /// <summary>Gets the number of changes of the shared state, which grows by one with each transition.</summary>
    public required long Version { get; init; }

    /// <summary>Gets the time left until the break of an open circuit ends; zero or less once it has.</summary>
    public required TimeSpan Remaining { get; init; }

    public required TimeSpan OpenedAgo { get; init; }

    public required TimeSpan BaseBreak { get; init; }

    public required int ConsecutiveFailures { get; init; }

    public required CircuitTransitionReason Reason { get; init; }

    /// <summary>Gets the instance that holds the probe lease, or <see langword="null"/> when the lease is free.</summary>
    public required string? LeaseOwner { get; init; }

    public required TimeSpan LeaseRemaining { get; init; }

    /// <summary>Gets what the script did: <c>opened</c>, <c>counted</c>, <c>won</c>, <c>lost</c>, <c>wait</c>, <c>none</c>, <c>applied</c>, <c>ignored</c> or <c>read</c>.</summary>
    public required string Outcome { get; init; }

    /// <summary>Reads the reply of <see cref="FleetScripts"/>, an array of ten values.</summary>
    /// <exception cref="InvalidOperationException">The reply has another shape, which a script change without a matching parser would cause.</exception>
    public static FleetState Parse(RedisResult result)
    {
        RedisResult[] values = (RedisResult[]?)result ?? [];
        if (values.Length != 10)
        {
            throw new InvalidOperationException($"A circuit state script returned {values.Length} values instead of 10.");
        }

        string state = (string?)values[0] ?? Closed;
        string? owner = (string?)values[7];
        return new FleetState
        {
            State = state,
            Version = (long)values[1],
            Remaining = TimeSpan.FromMilliseconds((long)values[2]),
            OpenedAgo = TimeSpan.FromMilliseconds((long)values[3]),
            BaseBreak = TimeSpan.FromMilliseconds((long)values[4]),
            ConsecutiveFailures = (int)(long)values[5],
            Reason = ParseReason((string?)values[6], state),
            LeaseOwner = string.IsNullOrEmpty(owner) ? null : owner,
            LeaseRemaining = TimeSpan.FromMilliseconds(Math.Max(0, (long)values[8])),
            Outcome = (string?)values[9] ?? string.Empty,
        };
    }

    /// <summary>
    /// Reads the stored reason, falling back to the usual reason of the state for a state written without one, such
    /// as the closed state that an absent key stands for.
    /// </summary>
    private static CircuitTransitionReason ParseReason(string? stored, string state) =>
        Enum.TryParse(stored, out CircuitTransitionReason reason)
            ? reason
            : state switch
            {
                Open => CircuitTransitionReason.FailureThreshold,
                Isolated => CircuitTransitionReason.Manual,
                _ => CircuitTransitionReason.ProbeSucceeded,
            };
}
