using Perfolizer.Horology;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// A benchmark clock that reads the CPU time of the whole process, user and kernel, instead of the wall clock.
/// </summary>
/// <remarks>
/// On a machine shared with other work, wall-clock iterations include the time the scheduler gave to other
/// processes; CPU time does not. It still includes the runtime's own threads (GC, JIT) and thread-pool threads
/// that spin before they sleep, and cannot show time lost waiting, so it complements the wall-clock run rather than
/// replacing it. <see cref="Environment.CpuUsage"/> reads it in 100 ns units.
/// </remarks>
internal sealed class ProcessCpuClock : IClock
{
    public static readonly ProcessCpuClock Instance = new();

    public string Title => "Process CPU time";

    public bool IsAvailable => true;

    public Frequency Frequency { get; } = new(TimeSpan.TicksPerSecond);

    public long GetTimestamp() => Environment.CpuUsage.TotalTime.Ticks;
}
