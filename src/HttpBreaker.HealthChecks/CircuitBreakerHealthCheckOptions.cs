using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HttpBreaker.HealthChecks;

/// <summary>
/// Settings of the circuit breaker health check: its name and tags, the status it reports for circuits that are
/// not closed, and which circuits it checks.
/// </summary>
/// <remarks>
/// The options are read once, when <c>AddCircuitBreakerHealthCheck</c> registers the check. Changing them later
/// has no effect.
/// </remarks>
public sealed class CircuitBreakerHealthCheckOptions
{
    /// <summary>The name that the check is registered under unless <see cref="Name"/> is set.</summary>
    public const string DefaultName = "circuit-breakers";

    /// <summary>
    /// Gets or sets the name of the check, which health reports use as its key.
    /// </summary>
    /// <value>Defaults to <c>circuit-breakers</c>. Must not be empty or white space.</value>
    public string Name { get; set; } = DefaultName;

    /// <summary>
    /// Gets the tags of the check, which health check endpoints can filter on, such as <c>ready</c>.
    /// </summary>
    /// <value>Empty by default. Each tag must be a non-empty string.</value>
    public ICollection<string> Tags { get; } = new List<string>();

    /// <summary>
    /// Gets or sets the status reported while any checked circuit is open or half-open. It is also the status
    /// that the health check service reports when the check itself throws.
    /// </summary>
    /// <value>
    /// <see cref="HealthStatus.Degraded"/> by default, so an open circuit shows without taking the whole
    /// application out of a load balancer. Set <see cref="HealthStatus.Unhealthy"/> when the application cannot
    /// serve without its upstreams. <see cref="HealthStatus.Healthy"/> is rejected.
    /// </value>
    public HealthStatus FailureStatus { get; set; } = HealthStatus.Degraded;

    /// <summary>
    /// Gets or sets the status reported while any checked circuit is isolated.
    /// </summary>
    /// <value>
    /// <see cref="HealthStatus.Degraded"/> by default. An operator isolates a circuit on purpose, so it does not
    /// follow <see cref="FailureStatus"/>: the check still names the circuit, but an isolation does not take the
    /// application out of service unless this is set to <see cref="HealthStatus.Unhealthy"/>. Any defined status
    /// is allowed; with <see cref="HealthStatus.Healthy"/>, isolated circuits still appear in the result's data.
    /// </value>
    public HealthStatus IsolatedStatus { get; set; } = HealthStatus.Degraded;

    /// <summary>
    /// Gets the names of the clients whose circuits are checked, partitions included.
    /// </summary>
    /// <value>
    /// Empty by default, which checks every client. Names are compared case-sensitively, as client names are.
    /// A name that has no circuit, because its client was never created or the name is misspelled, matches
    /// nothing and is not an error.
    /// </value>
    public ICollection<string> Clients { get; } = new List<string>();

    /// <summary>
    /// Gets or sets a filter that every checked circuit must pass, in addition to <see cref="Clients"/>.
    /// </summary>
    /// <value>
    /// <see langword="null"/> by default, which checks every circuit of the selected clients. The filter runs on
    /// each check, once per circuit, so it should be fast. An exception from it fails the check, and the health
    /// check service then reports <see cref="FailureStatus"/> with the exception.
    /// </value>
    public Func<CircuitSnapshot, bool>? CircuitFilter { get; set; }
}
