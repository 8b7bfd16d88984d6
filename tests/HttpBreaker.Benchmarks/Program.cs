using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace HttpBreaker.Benchmarks;

internal static class Program
{
    private const string Usage = """
        Usage: dotnet run -c Release --project tests/HttpBreaker.Benchmarks -- MODE [BenchmarkDotNet options]

          --full           every scenario with 1, 2 and 8 callers, default job, one process per case (tens of minutes)
          --quick          a short in-process job over a subset, as a smoke check (under two minutes)
          --cpu            every case in this process, timed by the process's CPU time, for a busy machine
          --check [PATH]   print the table and the target verdicts from an exported *-report-full.json file, or from
                           the newest one under PATH (default: BenchmarkDotNet.Artifacts)

        BenchmarkDotNet options such as --filter '*Open*' follow the mode. --full and --quick end with the --check
        output of their own run. The exit code is 0 unless a case failed to run; a missed target is only reported.
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        string[] benchmarkArgs = args[1..];
        switch (args[0])
        {
            case "--full":
                return Run(BenchmarkConfigs.Full(), benchmarkArgs);
            case "--quick":
                return Run(BenchmarkConfigs.Quick(), benchmarkArgs);
            case "--cpu":
                return Run(BenchmarkConfigs.CpuTime(), benchmarkArgs);
            case "--check":
                return Check(args.Length > 1 ? args[1] : "BenchmarkDotNet.Artifacts");
            default:
                Console.Error.WriteLine($"Unknown mode '{args[0]}': the first argument must be --full, --quick, --cpu or --check.");
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }

    private static int Run(IConfig config, string[] benchmarkArgs)
    {
        Summary summary = BenchmarkRunner.Run<RequestBenchmarks>(config, benchmarkArgs);
        int failed = summary.Reports.Count(report => !report.Success);
        if (summary.HasCriticalValidationErrors || summary.Reports.Length == 0 || failed > 0)
        {
            Console.Error.WriteLine($"{failed} of {summary.Reports.Length} benchmark cases failed to run; see the log in {summary.LogFilePath}.");
            return 1;
        }

        Console.WriteLine();
        return Check(summary.ResultsDirectoryPath);
    }

    private static int Check(string path)
    {
        try
        {
            TargetReport report = TargetReport.Load(path);
            report.Write(Console.Out);
            Console.WriteLine();
            Console.WriteLine($"{report.Misses} target(s) missed, {report.Skipped} not measured in this run.");
            return 0;
        }
        catch (FileNotFoundException exception)
        {
            Console.Error.WriteLine(exception.Message);
            return 1;
        }
    }
}
