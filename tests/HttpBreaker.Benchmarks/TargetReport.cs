using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// Reads the full JSON report that BenchmarkDotNet exports and prints the table of docs/benchmarks.md, with every
/// ratio taken between medians of the same run. One PASS or MISS line per target follows, or SKIP when a case that
/// the target compares was not run.
/// </summary>
internal sealed class TargetReport
{
    private const string Baseline = nameof(RequestBenchmarks.Bare);

    private readonly List<BenchmarkResult> _results;
    private readonly string _machine;
    private readonly string _job;

    private TargetReport(List<BenchmarkResult> results, string machine, string job)
    {
        _results = results;
        _machine = machine;
        _job = job;
    }

    /// <summary>Gets the number of targets missed in the last <see cref="Write"/>.</summary>
    public int Misses { get; private set; }

    /// <summary>Gets the number of targets that the last <see cref="Write"/> could not check because a case was not run.</summary>
    public int Skipped { get; private set; }

    /// <summary>
    /// Loads a report from a <c>*-report-full.json</c> file, or the newest such file in a folder.
    /// </summary>
    /// <exception cref="FileNotFoundException">No report exists at <paramref name="path"/>.</exception>
    public static TargetReport Load(string path)
    {
        string file = Directory.Exists(path)
            ? new DirectoryInfo(path).GetFiles("*-report-full.json", SearchOption.AllDirectories)
                .OrderByDescending(f => f.LastWriteTimeUtc)
                .FirstOrDefault()?.FullName
                ?? throw new FileNotFoundException($"No *-report-full.json file in '{path}'. Run the benchmarks first, or pass the file.")
            : File.Exists(path) ? path : throw new FileNotFoundException($"The report '{path}' does not exist.", path);

        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(file));
        JsonElement root = document.RootElement;

        var results = new List<BenchmarkResult>();
        string job = "";
        foreach (JsonElement benchmark in root.GetProperty("Benchmarks").EnumerateArray())
        {
            if (benchmark.TryGetProperty("Statistics", out JsonElement statistics) && statistics.ValueKind == JsonValueKind.Object)
            {
                results.Add(new BenchmarkResult(
                    benchmark.GetProperty("Method").GetString() ?? "",
                    ParseCallers(benchmark.GetProperty("Parameters").GetString()),
                    statistics.GetProperty("Median").GetDouble(),
                    benchmark.GetProperty("Memory").GetProperty("BytesAllocatedPerOperation").GetInt64()));
                job = DescribeJob(benchmark.GetProperty("DisplayInfo").GetString()) ?? job;
            }
        }

        return new TargetReport(results, DescribeMachine(root.GetProperty("HostEnvironmentInfo")), job);
    }

    /// <summary>Writes the machine, the table and the target verdicts as Markdown.</summary>
    public void Write(TextWriter output)
    {
        output.WriteLine($"Machine: {_machine}");
        output.WriteLine();
        output.WriteLine($"Job: {_job}");
        output.WriteLine();
        WriteTable(output);
        output.WriteLine();
        output.WriteLine("Targets (ratios of medians from this run):");
        output.WriteLine();
        Misses = 0;
        Skipped = 0;
        WriteTargets(output);
    }

    private static int ParseCallers(string? parameters) =>
        parameters is not null && parameters.StartsWith("Callers=", StringComparison.Ordinal)
            ? int.Parse(parameters.AsSpan("Callers=".Length), CultureInfo.InvariantCulture)
            : 1;

    /// <summary>Returns the job part of a case's display text, such as <c>Full</c> from <c>RequestBenchmarks.Bare: Full [Callers=8]</c>.</summary>
    private static string? DescribeJob(string? displayInfo)
    {
        int start = displayInfo?.IndexOf(": ", StringComparison.Ordinal) ?? -1;
        if (displayInfo is null || start < 0)
        {
            return null;
        }

        string job = displayInfo[(start + 2)..];
        int parameters = job.LastIndexOf(" [", StringComparison.Ordinal);
        return parameters < 0 ? job : job[..parameters];
    }

    private static string DescribeMachine(JsonElement host)
    {
        string Read(string name) => host.TryGetProperty(name, out JsonElement value) ? value.ToString() : "?";

        return $"{Read("ProcessorName")}, {Read("PhysicalCoreCount")} physical / {Read("LogicalCoreCount")} logical cores; "
            + $"{Read("OsVersion")}; {Read("RuntimeVersion")}; BenchmarkDotNet {Read("BenchmarkDotNetVersion")}";
    }

    private void WriteTable(TextWriter output)
    {
        output.WriteLine("| Scenario | Callers | Median per request | Ratio to bare | Allocated per request | Allocated over bare |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (IGrouping<int, BenchmarkResult> group in _results.GroupBy(r => r.Callers).OrderBy(g => g.Key))
        {
            BenchmarkResult? baseline = group.FirstOrDefault(r => r.Method == Baseline);
            foreach (BenchmarkResult result in group)
            {
                string ratio = baseline is null ? "?" : (result.MedianNanoseconds / baseline.MedianNanoseconds).ToString("0.00", CultureInfo.InvariantCulture);
                string extra = baseline is null ? "?" : (result.AllocatedBytes - baseline.AllocatedBytes).ToString("+0;-0;0", CultureInfo.InvariantCulture) + " B";
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {result.Method} | {result.Callers} | {FormatTime(result.MedianNanoseconds)} | {ratio} | {result.AllocatedBytes} B | {extra} |"));
            }
        }
    }

    private void WriteTargets(TextWriter output)
    {
        foreach (int callers in _results.Select(r => r.Callers).Distinct().Order())
        {
            double limit = callers == 1 ? 1.05 : 1.10;
            AtMost(output, $"Closed within {Percent(limit)} of pass-through, {callers} caller(s)",
                nameof(RequestBenchmarks.BreakerClosed), nameof(RequestBenchmarks.PassThrough), callers, limit);
        }

        ZeroExtraBytes(output, "Closed allocates 0 B more than pass-through, 1 caller",
            nameof(RequestBenchmarks.BreakerClosed), nameof(RequestBenchmarks.PassThrough));

        Below(output, "Open rejection costs less than a bare request, 1 caller",
            nameof(RequestBenchmarks.BreakerOpen), Baseline, 1, 1.0);
        AtLeast(output, "Polly v8 rejection costs at least 25x an open rejection, 1 caller",
            nameof(RequestBenchmarks.PollyV8Open), nameof(RequestBenchmarks.BreakerOpen), 1, 25);

        foreach (int callers in _results.Select(r => r.Callers).Distinct().Order())
        {
            AtMost(output, $"Ratio-window rule within 15% of the consecutive rule, {callers} caller(s)",
                nameof(RequestBenchmarks.BreakerClosedRatio), nameof(RequestBenchmarks.BreakerClosed), callers, 1.15);
            AtMost(output, $"Partitioned over {RequestBenchmarks.HostCount} hosts within 25% of one circuit, {callers} caller(s)",
                nameof(RequestBenchmarks.BreakerPartitioned), nameof(RequestBenchmarks.BreakerClosed), callers, 1.25);
            AtMost(output, $"Fleet mode closed within 10% of local mode, {callers} caller(s)",
                nameof(RequestBenchmarks.FleetClosed), nameof(RequestBenchmarks.BreakerClosed), callers, 1.10);
        }

        AtMost(output, "Fleet mode open within 10% of local mode, 1 caller",
            nameof(RequestBenchmarks.FleetOpen), nameof(RequestBenchmarks.BreakerOpen), 1, 1.10);
        ZeroExtraBytes(output, "Fleet mode closed allocates 0 B more than local mode, 1 caller",
            nameof(RequestBenchmarks.FleetClosed), nameof(RequestBenchmarks.BreakerClosed));
    }

    private void AtMost(TextWriter output, string target, string measured, string reference, int callers, double limit) =>
        Verdict(output, target, measured, reference, callers, ratio => ratio <= limit, $"<= {limit:0.00}");

    private void Below(TextWriter output, string target, string measured, string reference, int callers, double limit) =>
        Verdict(output, target, measured, reference, callers, ratio => ratio < limit, $"< {limit:0.00}");

    private void AtLeast(TextWriter output, string target, string measured, string reference, int callers, double limit) =>
        Verdict(output, target, measured, reference, callers, ratio => ratio >= limit, $">= {limit:0.00}");

    private void Verdict(TextWriter output, string target, string measured, string reference, int callers, Func<double, bool> passes, string bound)
    {
        if (Find(measured, callers) is not { } m || Find(reference, callers) is not { } r)
        {
            Skipped++;
            output.WriteLine($"- SKIP {target}: not measured in this run ({measured} or {reference} with {callers} caller(s) is missing)");
            return;
        }

        double ratio = m.MedianNanoseconds / r.MedianNanoseconds;
        bool passed = passes(ratio);
        if (!passed)
        {
            Misses++;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"- {(passed ? "PASS" : "MISS")} {target}: {measured} / {reference} = {ratio:0.000} ({bound})"));
    }

    private void ZeroExtraBytes(TextWriter output, string target, string measured, string reference)
    {
        if (Find(measured, 1) is not { } m || Find(reference, 1) is not { } r)
        {
            Skipped++;
            output.WriteLine($"- SKIP {target}: not measured in this run");
            return;
        }

        long extra = m.AllocatedBytes - r.AllocatedBytes;
        if (extra != 0)
        {
            Misses++;
        }

        output.WriteLine($"- {(extra == 0 ? "PASS" : "MISS")} {target}: {m.AllocatedBytes} B - {r.AllocatedBytes} B = {extra} B");
    }

    private BenchmarkResult? Find(string method, int callers) =>
        _results.FirstOrDefault(r => r.Method == method && r.Callers == callers);

    private static string Percent(double limit) => ((limit - 1) * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static string FormatTime(double nanoseconds) =>
        nanoseconds >= 1000
            ? (nanoseconds / 1000).ToString("0.000", CultureInfo.InvariantCulture) + " us"
            : nanoseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ns";
}
