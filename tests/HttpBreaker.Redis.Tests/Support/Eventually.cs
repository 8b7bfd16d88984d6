namespace HttpBreaker.Redis.Tests.Support;

/// <summary>
/// Polls a condition that background work makes true, such as a Redis round trip, instead of sleeping a fixed time.
/// </summary>
internal static class Eventually
{
    /// <summary>
    /// Runs <paramref name="nudge"/>, then checks <paramref name="condition"/>, until it holds, and fails the test
    /// after <paramref name="deadline"/> (ten seconds unless given).
    /// </summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string description, Func<Task>? nudge = null, TimeSpan? deadline = null)
    {
        TimeSpan limit = deadline ?? FleetInstance.PropagationDeadline;
        using var expired = new CancellationTokenSource(limit);
        while (true)
        {
            if (nudge is not null)
            {
                await nudge();
            }

            if (await condition())
            {
                return;
            }

            if (expired.IsCancellationRequested)
            {
                Assert.Fail($"Still not true after {limit.TotalSeconds} s: {description}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
        }
    }

    public static Task HoldsAsync(Func<bool> condition, string description, Func<Task>? nudge = null, TimeSpan? deadline = null) =>
        HoldsAsync(() => Task.FromResult(condition()), description, nudge, deadline);
}
