using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace HttpBreaker.Sample;

/// <summary>
/// Command-line settings of the sample. Only the syntax of <c>--threshold</c> and <c>--break</c> is checked here,
/// because the library validates their ranges itself and the sample shows its messages. The exception is the
/// backoff scenario, whose phase plan needs a break from 0.2 to 2 seconds.
/// </summary>
internal sealed class SampleOptions
{
    public const string Usage = """
        Usage: dotnet run --project samples/HttpBreaker.Sample -- [options]

        Sends requests through an HttpClient with a circuit breaker and prints each outcome with the circuit
        state. By default it starts its own upstream on 127.0.0.1 and plays one scenario:

          consecutive  One request every 200 ms. The upstream is healthy (200), failing (500), stopped
                       (connections refused) and recovered (200 again). --threshold consecutive failures
                       open the circuit. Lasts 2 x break + 0.2 s x threshold + 4 s.
          ratio        One request every 100 ms. The upstream returns 200, then 500, 500, 200 in turn, then
                       200 again. FailureRatio 0.5 over a 2 s window opens the circuit, with the
                       consecutive rule off. Lasts break + 7 s.
          backoff      One request every 200 ms. The upstream returns 500 until three probes have failed,
                       then 200, then 500 once more. BreakDurationMultiplier 2 doubles the break on each
                       failed probe, up to MaxBreakDuration 4 s, and a close resets it. Lasts 12.6 s with
                       the defaults. The second line of the run states its length.
          partitions   One request every 100 ms, to upstream A and upstream B in turn, each on
                       127.0.0.1 with its own port. PartitionBy Authority gives each one its own
                       circuit. A returns 200 throughout. B returns 500 until its first probe has
                       failed, then 200 again. Lasts 2 x break + 0.2 s x threshold + 3.4 s.

        Options:
          --scenario NAME     consecutive (default), ratio, backoff or partitions.
          --threshold N       Consecutive failures that open the circuit. Default 3. Not for ratio, which
                              turns this rule off.
          --break SECONDS     How long the open circuit rejects requests before it sends a probe, in
                              seconds; decimals allowed. Default 2, or 0.5 for backoff, which accepts 0.2
                              to 2 so that its probes fit its phases and the break can double.
          --url URL           Watch this http or https URL instead of the built-in upstream, with the
                              consecutive scenario's options. No server is started and no phases are
                              switched.
          --duration SECONDS  How long to watch --url, in seconds; decimals allowed. Default 10.
          -h, --help          Show this help.

        Exit codes: 0 when the run showed what its scenario is for (for consecutive and --url: the
        circuit went closed -> open -> half-open -> closed), 1 when it did not, 2 for invalid arguments.
        """;

    public ScenarioKind Scenario { get; private init; }

    public int FailureThreshold { get; private init; } = 3;

    public TimeSpan BreakDuration { get; private init; } = TimeSpan.FromSeconds(2);

    /// <summary>The endpoint to watch, or <see langword="null"/> to run the built-in upstream.</summary>
    public Uri? Url { get; private init; }

    /// <summary>How long <see cref="Url"/> is watched. Unused by the built-in run, whose phases set its length.</summary>
    public TimeSpan WatchDuration { get; private init; } = TimeSpan.FromSeconds(10);

    public bool ShowHelp { get; private init; }

    /// <summary>
    /// Parses the command line.
    /// </summary>
    /// <param name="args">The arguments after <c>--</c> of <c>dotnet run</c>.</param>
    /// <param name="options">The parsed options, or <see langword="null"/> when an argument is invalid.</param>
    /// <param name="error">A message that names the invalid argument and how to fix it.</param>
    /// <returns><see langword="true"/> when every argument is valid.</returns>
    public static bool TryParse(
        string[] args,
        [NotNullWhen(true)] out SampleOptions? options,
        [NotNullWhen(false)] out string? error)
    {
        options = null;
        ScenarioKind scenario = ScenarioKind.Consecutive;
        int? threshold = null;
        TimeSpan? breakDuration = null;
        Uri? url = null;
        TimeSpan? watchDuration = null;

        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "-h" or "--help")
            {
                options = new SampleOptions { ShowHelp = true };
                error = null;
                return true;
            }

            if (name is not ("--scenario" or "--threshold" or "--break" or "--url" or "--duration"))
            {
                error = $"Unknown argument '{name}'. Options are --scenario, --threshold, --break, --url, --duration and --help.";
                return false;
            }

            if (i + 1 == args.Length)
            {
                error = $"Missing value for {name}. Put the value after it, as in '{name} {ExampleValue(name)}'.";
                return false;
            }

            string value = args[++i];
            error = name switch
            {
                "--scenario" => ParseScenario(value, out scenario),
                "--threshold" => ParseThreshold(value, out threshold),
                "--break" => ParseBreak(value, out breakDuration),
                "--url" => ParseUrl(value, out url),
                _ => ParseDuration(value, out watchDuration),
            };

            if (error is not null)
            {
                return false;
            }
        }

        if (watchDuration is not null && url is null)
        {
            error = "--duration applies only with --url. The built-in run sets its own length from --break.";
            return false;
        }

        error = CheckScenario(scenario, threshold, breakDuration, url);
        if (error is not null)
        {
            return false;
        }

        options = new SampleOptions
        {
            Scenario = scenario,
            FailureThreshold = threshold ?? 3,
            BreakDuration = breakDuration ?? (scenario == ScenarioKind.Backoff ? TimeSpan.FromSeconds(0.5) : TimeSpan.FromSeconds(2)),
            Url = url,
            WatchDuration = watchDuration ?? TimeSpan.FromSeconds(10),
        };
        error = null;
        return true;
    }

    private static string ExampleValue(string name) => name switch
    {
        "--scenario" => "ratio",
        "--threshold" => "3",
        "--url" => "http://127.0.0.1:8080/",
        _ => "2.5",
    };

    /// <summary>
    /// Returns an error for an option that the chosen scenario cannot use, such as <c>--url</c> with ratio, or
    /// <see langword="null"/> when every option fits.
    /// </summary>
    private static string? CheckScenario(ScenarioKind scenario, int? threshold, TimeSpan? breakDuration, Uri? url)
    {
        if (url is not null && scenario == ScenarioKind.Partitions)
        {
            return "--url applies only to --scenario consecutive. The partitions scenario needs its two built-in upstreams, "
                + "because it compares a healthy and a failing authority. Remove --url or --scenario.";
        }

        if (url is not null && scenario != ScenarioKind.Consecutive)
        {
            return $"--url applies only to --scenario consecutive. The {FormatScenario(scenario)} scenario needs the built-in upstream, "
                + "because it sets the status code of every response. Remove --url or --scenario.";
        }

        if (threshold is not null && scenario == ScenarioKind.Ratio)
        {
            return "--threshold does not apply to --scenario ratio, which sets FailureThreshold to 0 to turn the consecutive rule off. Remove --threshold.";
        }

        // The backoff plan makes the upstream recover between the third failed probe and the fourth, which comes one
        // break of 8 x --break (capped at 4 s) later. Below 0.2 s that break would not outlast the 1 s that the plan
        // allows for probes that come late. Above 2 s the cap of 4 s leaves the break no room to double.
        if (breakDuration is { } duration && scenario == ScenarioKind.Backoff && (duration < TimeSpan.FromSeconds(0.2) || duration > TimeSpan.FromSeconds(2)))
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"Invalid value '{duration.TotalSeconds}' for --break with --scenario backoff: expected 0.2 to 2 seconds, such as 0.5.");
        }

        return null;
    }

    private static string? ParseScenario(string value, out ScenarioKind scenario)
    {
        foreach (ScenarioKind candidate in Enum.GetValues<ScenarioKind>())
        {
            if (string.Equals(value, FormatScenario(candidate), StringComparison.OrdinalIgnoreCase))
            {
                scenario = candidate;
                return null;
            }
        }

        scenario = ScenarioKind.Consecutive;
        string validNames = string.Join(", ", Enum.GetValues<ScenarioKind>().Select(FormatScenario));
        return $"Unknown scenario '{value}' for --scenario. Valid names are {validNames}.";
    }

    private static string FormatScenario(ScenarioKind scenario) => scenario switch
    {
        ScenarioKind.Consecutive => "consecutive",
        ScenarioKind.Ratio => "ratio",
        ScenarioKind.Backoff => "backoff",
        ScenarioKind.Partitions => "partitions",
        _ => scenario.ToString(),
    };

    private static string? ParseThreshold(string value, out int? threshold)
    {
        // Zero and negative numbers pass on purpose, so that the library rejects them with its own message.
        if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int parsed))
        {
            threshold = parsed;
            return null;
        }

        threshold = null;
        return $"Invalid value '{value}' for --threshold: expected a whole number of failures, such as 3.";
    }

    private static string? ParseBreak(string value, out TimeSpan? breakDuration)
    {
        string? error = ParseSeconds("--break", value, out TimeSpan duration);
        breakDuration = error is null ? duration : null;
        return error;
    }

    private static string? ParseSeconds(string name, string value, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        bool isNumber = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds);

        if (!isNumber || double.IsNaN(seconds))
        {
            return $"Invalid value '{value}' for {name}: expected a number of seconds with a '.' for decimals, such as 2.5.";
        }

        // TimeSpan.FromSeconds throws for infinities and for values beyond TimeSpan.MaxValue.
        if (Math.Abs(seconds) >= TimeSpan.MaxValue.TotalSeconds)
        {
            return $"Invalid value '{value}' for {name}: a TimeSpan cannot hold that many seconds. Use a smaller number, such as 2.5.";
        }

        duration = TimeSpan.FromSeconds(seconds);
        return null;
    }

    private static string? ParseDuration(string value, out TimeSpan? watchDuration)
    {
        watchDuration = null;
        string? error = ParseSeconds("--duration", value, out TimeSpan duration);
        if (error is not null)
        {
            return error;
        }

        if (duration <= TimeSpan.Zero)
        {
            return $"Invalid value '{value}' for --duration: the watch must last more than 0 seconds, such as 10.";
        }

        watchDuration = duration;
        return null;
    }

    private static string? ParseUrl(string value, out Uri? url)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return null;
        }

        url = null;
        return $"Invalid value '{value}' for --url: expected an absolute http or https URL, such as http://127.0.0.1:8080/.";
    }
}
