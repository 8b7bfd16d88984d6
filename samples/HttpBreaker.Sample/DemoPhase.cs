namespace HttpBreaker.Sample;

/// <summary>
/// One stage of the built-in run, such as "failing".
/// </summary>
/// <param name="Name">The short name printed in the phase banner.</param>
/// <param name="Description">What the upstream does during the phase.</param>
/// <param name="Duration">How long requests are sent before the next phase starts.</param>
/// <param name="EnterAsync">Switches the upstream into this phase.</param>
internal sealed record DemoPhase(string Name, string Description, TimeSpan Duration, Func<CancellationToken, Task> EnterAsync);
