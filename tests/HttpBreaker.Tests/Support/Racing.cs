namespace HttpBreaker.Tests.Support;

/// <summary>
/// Starts many calls at once on dedicated threads.
/// </summary>
internal static class Racing
{
    /// <summary>
    /// Starts <paramref name="count"/> calls on threads that wait at one barrier, so they reach the breaker as
    /// close together as the machine allows. Returns once every call has returned its task: the breaker admits
    /// or rejects a request before the first await, so by then every decision has been made.
    /// </summary>
    public static async Task<Task<T>[]> StartTogetherAsync<T>(int count, Func<Task<T>> call)
    {
        using var barrier = new Barrier(count);
        Task<Task<T>>[] starters = Enumerable.Range(0, count)
            .Select(_ => Task.Factory.StartNew(
                () =>
                {
                    barrier.SignalAndWait();
                    return call();
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default))
            .ToArray();

        return await Task.WhenAll(starters);
    }
}
