namespace HttpBreaker.Sample;

/// <summary>
/// The request loop of a built-in run. It switches the upstream into each phase, then sends one request per
/// interval until the phase's time is up.
/// </summary>
internal static class PhaseRunner
{
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task RunAsync(
        IReadOnlyList<DemoPhase> phases,
        TimeSpan requestInterval,
        IRequestWatcher watcher,
        CancellationToken cancellationToken)
    {
        using var pacer = new PeriodicTimer(requestInterval);
        TimeSpan phaseEnd = TimeSpan.Zero;

        foreach (DemoPhase phase in phases)
        {
            await phase.EnterAsync(cancellationToken);
            CircuitWatcher.PrintPhase(phase.Name, phase.Description);
            phaseEnd += phase.Duration;

            // Timer ticks land a little before or after each multiple of the interval. Ending the phase half an
            // interval early keeps a tick that comes early from sending one more request than planned.
            while (watcher.Elapsed + (requestInterval / 2) < phaseEnd)
            {
                await watcher.SendAsync(cancellationToken);
                await pacer.WaitForNextTickAsync(cancellationToken);
            }
        }
    }
}
