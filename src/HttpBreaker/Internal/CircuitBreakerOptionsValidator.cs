using System.Globalization;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Internal;

/// <summary>
/// Validates the options of every client, so that no circuit is created from values outside their ranges.
/// </summary>
internal sealed class CircuitBreakerOptionsValidator : IValidateOptions<CircuitBreakerOptions>
{
    public ValidateOptionsResult Validate(string? name, CircuitBreakerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        string client = name ?? Options.DefaultName;
        List<string>? failures = null;

        if (options.FailureThreshold < CircuitBreakerDefaults.MinFailureThreshold)
        {
            (failures ??= []).Add(Describe(
                client,
                nameof(CircuitBreakerOptions.FailureThreshold),
                options.FailureThreshold.ToString(CultureInfo.InvariantCulture),
                $"an integer from {CircuitBreakerDefaults.MinFailureThreshold} to {int.MaxValue}"));
        }

        if (options.BreakDuration < CircuitBreakerDefaults.MinBreakDuration || options.BreakDuration > CircuitBreakerDefaults.MaxBreakDuration)
        {
            (failures ??= []).Add(Describe(
                client,
                nameof(CircuitBreakerOptions.BreakDuration),
                options.BreakDuration.ToString("c", CultureInfo.InvariantCulture),
                $"more than zero and at most {CircuitBreakerDefaults.MaxBreakDuration.ToString("c", CultureInfo.InvariantCulture)} (one day)"));
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Describe(string client, string option, string value, string range) =>
        $"Circuit breaker option {option} of client '{client}' is {value}, which is invalid: it must be {range}.";
}
