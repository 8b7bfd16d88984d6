using System.Collections.Frozen;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HttpBreaker.HealthChecks.Internal;

/// <summary>
/// A validated, unchangeable copy of <see cref="CircuitBreakerHealthCheckOptions"/>, taken at registration so that
/// later changes to the options object cannot reach a registered check.
/// </summary>
internal sealed class HealthCheckSettings
{
    private const string OptionsName = nameof(CircuitBreakerHealthCheckOptions);

    private HealthCheckSettings(CircuitBreakerHealthCheckOptions options)
    {
        Name = options.Name;
        Tags = [.. options.Tags];
        FailureStatus = options.FailureStatus;
        IsolatedStatus = options.IsolatedStatus;
        Clients = options.Clients.ToFrozenSet(StringComparer.Ordinal);
        CircuitFilter = options.CircuitFilter;
    }

    public string Name { get; }

    public IReadOnlyList<string> Tags { get; }

    public HealthStatus FailureStatus { get; }

    public HealthStatus IsolatedStatus { get; }

    /// <summary>The clients to check, or an empty set for every client.</summary>
    public FrozenSet<string> Clients { get; }

    public Func<CircuitSnapshot, bool>? CircuitFilter { get; }

    /// <summary>
    /// Validates the options and copies them.
    /// </summary>
    /// <param name="options">The options to copy.</param>
    /// <param name="parameterOf">
    /// Maps the name of the first invalid option to the parameter of the public method that set it.
    /// </param>
    /// <exception cref="ArgumentException">
    /// An option is invalid. The message names each invalid option, its value and the fix.
    /// </exception>
    public static HealthCheckSettings Create(CircuitBreakerHealthCheckOptions options, Func<string, string> parameterOf)
    {
        List<(string Option, string Message)> errors = Validate(options);
        if (errors.Count > 0)
        {
            string messages = string.Join(" ", errors.Select(error => error.Message));
            throw new ArgumentException($"The circuit breaker health check options are invalid. {messages}", parameterOf(errors[0].Option));
        }

        return new HealthCheckSettings(options);
    }

    /// <summary>
    /// Tells whether a circuit is one that this check reports on.
    /// </summary>
    public bool Selects(CircuitSnapshot circuit) =>
        (Clients.Count == 0 || Clients.Contains(circuit.ClientName)) && (CircuitFilter is null || CircuitFilter(circuit));

    private static List<(string Option, string Message)> Validate(CircuitBreakerHealthCheckOptions options)
    {
        var errors = new List<(string Option, string Message)>();

        if (string.IsNullOrWhiteSpace(options.Name))
        {
            errors.Add((
                nameof(options.Name),
                $"{OptionsName}.Name is {Describe(options.Name)}. Set a name such as '{CircuitBreakerHealthCheckOptions.DefaultName}', " +
                "which health reports use as the key of this check."));
        }

        if (options.FailureStatus == HealthStatus.Healthy)
        {
            errors.Add((
                nameof(options.FailureStatus),
                $"{OptionsName}.FailureStatus is Healthy, so open circuits would never change the reported status. " +
                "Set Degraded or Unhealthy."));
        }
        else if (!Enum.IsDefined(options.FailureStatus))
        {
            errors.Add((
                nameof(options.FailureStatus),
                $"{OptionsName}.FailureStatus is {(int)options.FailureStatus}, which is not a HealthStatus. Set Degraded or Unhealthy."));
        }

        if (!Enum.IsDefined(options.IsolatedStatus))
        {
            errors.Add((
                nameof(options.IsolatedStatus),
                $"{OptionsName}.IsolatedStatus is {(int)options.IsolatedStatus}, which is not a HealthStatus. Set Healthy, Degraded or Unhealthy."));
        }

        AddBlankEntryErrors(errors, options.Tags, nameof(options.Tags), "Remove it or give it text such as 'ready'");
        AddBlankEntryErrors(errors, options.Clients, nameof(options.Clients), "Remove it or add the name that was given to AddHttpClient");
        return errors;
    }

    private static void AddBlankEntryErrors(List<(string Option, string Message)> errors, IEnumerable<string> entries, string optionName, string fix)
    {
        int position = 0;
        foreach (string entry in entries)
        {
            if (string.IsNullOrWhiteSpace(entry))
            {
                errors.Add((optionName, $"{OptionsName}.{optionName}[{position}] is {Describe(entry)}. {fix}."));
            }

            position++;
        }
    }

    private static string Describe(string? value) => value switch
    {
        null => "null",
        "" => "empty",
        _ => $"'{value}', which is only white space",
    };
}
