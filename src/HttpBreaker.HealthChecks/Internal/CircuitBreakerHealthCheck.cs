using System.Globalization;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HttpBreaker.HealthChecks.Internal;

/// <summary>
/// Reports the circuits of <see cref="ICircuitBreakerRegistry"/>: healthy while every checked circuit is closed,
/// and otherwise the worst status of the circuits that are not, each listed in the result's data.
/// </summary>
internal sealed class CircuitBreakerHealthCheck : IHealthCheck
{
    /// <summary>
    /// Circuit names listed in the description before the rest are only counted, so that a client with many open
    /// partitions does not produce a description of unbounded length. The data lists every circuit.
    /// </summary>
    internal const int MaxNamesInDescription = 10;

    private readonly ICircuitBreakerRegistry? _registry;
    private readonly HealthCheckSettings _settings;

    /// <param name="registry">
    /// The registry, or <see langword="null"/> when the application added no circuit breaker. The check then
    /// throws when it runs rather than when it is created, because the health check service reports an exception
    /// from a check with its failure status, while one from the check's factory escapes to the caller.
    /// </param>
    /// <param name="settings">The validated options.</param>
    public CircuitBreakerHealthCheck(ICircuitBreakerRegistry? registry, HealthCheckSettings settings)
    {
        _registry = registry;
        _settings = settings;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_registry is null)
        {
            throw new InvalidOperationException(
                "The circuit breaker health check found no ICircuitBreakerRegistry. Add a circuit breaker to a client, " +
                "such as services.AddHttpClient(\"name\").AddCircuitBreaker(), in the service collection of the health checks.");
        }

        int checkedCount = 0;
        var notClosed = new List<CircuitSnapshot>();
        foreach (CircuitSnapshot circuit in _registry.GetCircuits())
        {
            if (!_settings.Selects(circuit))
            {
                continue;
            }

            checkedCount++;
            if (circuit.State != CircuitState.Closed)
            {
                notClosed.Add(circuit);
            }
        }

        HealthCheckResult result = notClosed.Count == 0
            ? HealthCheckResult.Healthy(DescribeClosed(checkedCount))
            : new HealthCheckResult(GetStatus(notClosed), DescribeNotClosed(notClosed, checkedCount), data: CreateData(notClosed));
        return Task.FromResult(result);
    }

    internal static string StateText(CircuitState state) => state switch
    {
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        CircuitState.Isolated => "isolated",
        _ => "closed",
    };

    private static string DescribeClosed(int checkedCount) => checkedCount switch
    {
        0 => "No circuit to check: a circuit appears when its client is first created.",
        1 => "The 1 circuit checked is closed.",
        _ => string.Create(CultureInfo.InvariantCulture, $"All {checkedCount} circuits checked are closed."),
    };

    /// <summary>
    /// Describes the circuits that are not closed, such as
    /// <c>2 of 5 circuits not closed: github (open), payments/https://pay.example:443 (half-open)</c>.
    /// </summary>
    private static string DescribeNotClosed(List<CircuitSnapshot> notClosed, int checkedCount)
    {
        var description = new StringBuilder();
        description.Append(CultureInfo.InvariantCulture, $"{notClosed.Count} of {checkedCount} circuits not closed: ");
        for (int i = 0; i < Math.Min(notClosed.Count, MaxNamesInDescription); i++)
        {
            if (i > 0)
            {
                description.Append(", ");
            }

            description.Append(CultureInfo.InvariantCulture, $"{notClosed[i].Name} ({StateText(notClosed[i].State)})");
        }

        if (notClosed.Count > MaxNamesInDescription)
        {
            description.Append(CultureInfo.InvariantCulture, $" and {notClosed.Count - MaxNamesInDescription} more");
        }

        return description.ToString();
    }

    private static Dictionary<string, object> CreateData(List<CircuitSnapshot> notClosed)
    {
        var data = new Dictionary<string, object>(notClosed.Count, StringComparer.Ordinal);
        foreach (CircuitSnapshot circuit in notClosed)
        {
            data[circuit.Name] = new CircuitHealthEntry
            {
                Name = circuit.Name,
                ClientName = circuit.ClientName,
                PartitionKey = circuit.PartitionKey,
                State = StateText(circuit.State),
                OpenedAt = circuit.OpenedAt,
                NextProbeAt = circuit.NextProbeAt,
                ConsecutiveFailures = circuit.ConsecutiveFailures,
            };
        }

        return data;
    }

    /// <summary>
    /// Returns the worst status among the circuits: <see cref="HealthStatus"/> orders Unhealthy below Degraded below
    /// Healthy, so the smallest value wins.
    /// </summary>
    private HealthStatus GetStatus(List<CircuitSnapshot> notClosed)
    {
        HealthStatus status = HealthStatus.Healthy;
        foreach (CircuitSnapshot circuit in notClosed)
        {
            HealthStatus circuitStatus = circuit.State == CircuitState.Isolated ? _settings.IsolatedStatus : _settings.FailureStatus;
            if (circuitStatus < status)
            {
                status = circuitStatus;
            }
        }

        return status;
    }
}
