namespace HttpBreaker.Sample;

/// <summary>
/// One built-in run: the breaker options it uses, the phases the upstream goes through, and the check of what the
/// run showed.
/// </summary>
internal interface IDemoScenario
{
    /// <summary>The time between two requests, the same in every phase so that the printed times show when a break ends.</summary>
    TimeSpan RequestInterval { get; }

    /// <summary>The breaker options for the first line of the run, such as "FailureThreshold 3, BreakDuration 2 s".</summary>
    string BreakerSettings { get; }

    /// <summary>Whether each opening or reopening line also shows the length of the break it started.</summary>
    bool PrintsBreakDurations { get; }

    void ConfigureBreaker(CircuitBreakerOptions breaker);

    /// <summary>
    /// Plans the phases of the built-in upstream. Each phase lasts long enough for the circuit to react to it.
    /// </summary>
    IReadOnlyList<DemoPhase> PlanPhases(FlakyUpstream upstream);

    /// <summary>
    /// Prints whether the run showed what the scenario is for, and returns that verdict, which sets the exit code.
    /// </summary>
    bool ReportResult(CircuitWatcher watcher);
}
