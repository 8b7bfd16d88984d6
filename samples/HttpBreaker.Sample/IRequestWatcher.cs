namespace HttpBreaker.Sample;

/// <summary>
/// A sender of a run's requests, one at a time, that prints a line for each. <see cref="PhaseRunner"/> paces it.
/// </summary>
internal interface IRequestWatcher
{
    /// <summary>The time since the run started, which every printed line starts with.</summary>
    TimeSpan Elapsed { get; }

    /// <summary>
    /// Sends one request and prints its line.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    Task SendAsync(CancellationToken cancellationToken);
}
