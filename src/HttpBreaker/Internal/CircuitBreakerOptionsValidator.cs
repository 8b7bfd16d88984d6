using System.Globalization;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Internal;

/// <summary>
/// Validates the options of every client, so that no circuit is created from values outside their ranges. Each
/// failure names the client, the option, the value and the allowed range.
/// </summary>
internal sealed class CircuitBreakerOptionsValidator : IValidateOptions<CircuitBreakerOptions>
{
    public ValidateOptionsResult Validate(string? name, CircuitBreakerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        var failures = new Failures(name ?? Options.DefaultName);
        TimeSpan minDuration = CircuitBreakerDefaults.MinDuration;
        TimeSpan maxDuration = CircuitBreakerDefaults.MaxDuration;

        if (options.FailureRatio is null)
        {
            failures.CheckRange(nameof(options.FailureThreshold), options.FailureThreshold, CircuitBreakerDefaults.MinFailureThreshold, int.MaxValue,
                "an integer from 1 to 2147483647 (0 turns the consecutive rule off only when FailureRatio is set)");
        }
        else
        {
            failures.CheckRange(nameof(options.FailureThreshold), options.FailureThreshold, 0, int.MaxValue, "an integer from 0 (off) to 2147483647");
        }

        if (options.FailureRatio is { } ratio && !(ratio > CircuitBreakerDefaults.MinFailureRatio && ratio <= CircuitBreakerDefaults.MaxFailureRatio))
        {
            failures.Add(nameof(options.FailureRatio), Format(ratio), "more than 0 and at most 1, such as 0.5 for half of the requests");
        }

        failures.CheckRange(nameof(options.SamplingDuration), options.SamplingDuration, CircuitBreakerDefaults.MinSamplingDuration, maxDuration);
        failures.CheckRange(nameof(options.MinimumThroughput), options.MinimumThroughput, CircuitBreakerDefaults.MinMinimumThroughput, int.MaxValue, "an integer from 2 to 2147483647");
        failures.CheckRange(nameof(options.SlowCallDuration), options.SlowCallDuration, minDuration, maxDuration);
        failures.CheckRange(nameof(options.Timeout), options.Timeout, minDuration, maxDuration);

        if (!StatusCodeSet.TryParse(options.FailureStatusCodes, out _, out string? codesError))
        {
            failures.Add(nameof(options.FailureStatusCodes), $"'{options.FailureStatusCodes}'",
                $"a comma-separated list of status codes and ranges within 100-599, such as 500-599,408,429 ({codesError})");
        }

        failures.CheckRange(nameof(options.BreakDuration), options.BreakDuration, minDuration, maxDuration);
        if (options.MaxBreakDuration is { } maxBreak && (maxBreak < options.BreakDuration || maxBreak > maxDuration))
        {
            failures.Add(nameof(options.MaxBreakDuration), Format(maxBreak),
                $"at least BreakDuration ({Format(options.BreakDuration)}) and at most {Format(maxDuration)}");
        }

        failures.CheckRange(nameof(options.BreakDurationMultiplier), options.BreakDurationMultiplier, 1, CircuitBreakerDefaults.MaxBreakDurationMultiplier);
        failures.CheckRange(nameof(options.BreakDurationJitter), options.BreakDurationJitter, 0, CircuitBreakerDefaults.MaxBreakDurationJitter);
        failures.CheckRange(nameof(options.PermittedProbes), options.PermittedProbes, 1, CircuitBreakerDefaults.MaxPermittedProbes, "an integer from 1 to 1000");
        if (options.ProbeSuccessThreshold is { } successThreshold)
        {
            failures.CheckRange(nameof(options.ProbeSuccessThreshold), successThreshold, 1, CircuitBreakerDefaults.MaxPermittedProbes, "an integer from 1 to 1000");
        }

        failures.CheckRange(nameof(options.ProbeTimeout), options.ProbeTimeout, minDuration, maxDuration);

        if (!Enum.IsDefined(options.PartitionBy))
        {
            failures.Add(nameof(options.PartitionBy), options.PartitionBy.ToString(), "Client or Authority");
        }

        failures.CheckRange(nameof(options.MaxPartitions), options.MaxPartitions, 1, CircuitBreakerDefaults.MaxMaxPartitions, "an integer from 1 to 1000000");
        failures.CheckRange(nameof(options.PartitionIdleTimeout), options.PartitionIdleTimeout, CircuitBreakerDefaults.MinPartitionIdleTimeout, maxDuration);

        return failures.ToResult();
    }

    private static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The failures found so far for one client.</summary>
    private sealed class Failures(string client)
    {
        private List<string>? _messages;

        public void Add(string option, string value, string allowed) =>
            (_messages ??= []).Add($"Circuit breaker option {option} of client '{client}' is {value}, which is invalid: it must be {allowed}");

        public void CheckRange(string option, int value, int min, int max, string allowed)
        {
            if (value < min || value > max)
            {
                Add(option, value.ToString(CultureInfo.InvariantCulture), allowed);
            }
        }

        public void CheckRange(string option, double value, double min, double max)
        {
            // Written so that NaN, which compares false with everything, fails the check.
            if (!(value >= min && value <= max))
            {
                Add(option, Format(value), $"from {Format(min)} to {Format(max)}");
            }
        }

        public void CheckRange(string option, TimeSpan? value, TimeSpan min, TimeSpan max)
        {
            if (value is { } duration && (duration < min || duration > max))
            {
                Add(option, Format(duration), $"from {Format(min)} to {Format(max)}");
            }
        }

        public ValidateOptionsResult ToResult() => _messages is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_messages);
    }
}
