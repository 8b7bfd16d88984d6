using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// The ways to run the benchmarks: the full run whose table goes into docs/benchmarks.md, the CPU-time run for a busy
/// machine, and the quick smoke run of CI.
/// </summary>
internal static class BenchmarkConfigs
{
    /// <summary>Scenarios of the quick run: every one with a single caller, and the closed path with 8 callers.</summary>
    private static readonly HashSet<string> s_quickConcurrent = new(StringComparer.Ordinal)
    {
        nameof(RequestBenchmarks.Bare),
        nameof(RequestBenchmarks.PassThrough),
        nameof(RequestBenchmarks.BreakerClosed),
    };

    /// <summary>
    /// Every scenario and caller count, each in its own process with BenchmarkDotNet's default job, which picks the
    /// iteration counts from the measured noise.
    /// </summary>
    public static IConfig Full() =>
        Common(DefaultConfig.Instance)
            .AddJob(Job.Default.WithId("Full"));

    /// <summary>
    /// A short job inside this process, over a subset of the cases, so that it finishes in well under two minutes.
    /// Its figures only show that every scenario runs and what path it measures. They are too short to compare.
    /// </summary>
    public static IConfig Quick() =>
        Common(DefaultConfig.Instance)
            .AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithWarmupCount(2)
                .WithIterationCount(5)
                .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(50))
                .WithEvaluateOverhead(false)
                .WithId("Quick"))
            .AddFilter(new SimpleFilter(IsQuickCase));

    /// <summary>
    /// Every case inside this process, timed by the process's CPU time instead of the wall clock, for a machine busy
    /// with other work. Its ratios compare cases within the run, and its absolute figures are CPU time per request.
    /// </summary>
    public static IConfig CpuTime() =>
        Common(DefaultConfig.Instance)
            .AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithClock(ProcessCpuClock.Instance)
                .WithWarmupCount(3)
                .WithIterationCount(15)
                .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(200))
                .WithEvaluateOverhead(false)
                .WithId("CpuTime"));

    private static ManualConfig Common(IConfig baseConfig) =>
        ManualConfig.Create(baseConfig)
            .AddColumn(StatisticColumn.Median)
            .AddExporter(JsonExporter.Full);

    private static bool IsQuickCase(BenchmarkCase benchmarkCase)
    {
        int callers = (int)benchmarkCase.Parameters[nameof(RequestBenchmarks.Callers)];
        return callers == 1 || (callers == 8 && s_quickConcurrent.Contains(benchmarkCase.Descriptor.WorkloadMethod.Name));
    }
}
