using HttpBreaker;
using HttpBreaker.HealthChecks;
using HttpBreaker.HealthChecks.Internal;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds a health check that reports the circuits of <see cref="ICircuitBreakerRegistry"/>.
/// </summary>
public static class CircuitBreakerHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check that is healthy while every circuit is closed, and reports
    /// <paramref name="failureStatus"/> while any circuit is open or half-open. Isolated circuits report
    /// <see cref="HealthStatus.Degraded"/>, because an operator isolates a circuit on purpose.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddHealthChecks</c>.</param>
    /// <param name="name">The name of the check; <c>circuit-breakers</c> by default.</param>
    /// <param name="failureStatus">
    /// The status while a circuit is open or half-open: <see cref="HealthStatus.Degraded"/> when
    /// <see langword="null"/>, or <see cref="HealthStatus.Unhealthy"/>.
    /// </param>
    /// <param name="tags">Tags that health check endpoints can filter on, or <see langword="null"/> for none.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentException">The name is empty, a tag is empty, or the status is not valid.</exception>
    /// <remarks>
    /// The check reads <see cref="ICircuitBreakerRegistry.GetCircuits"/>, so a circuit counts once its client has
    /// been created. The application must add a circuit breaker with <c>AddCircuitBreaker</c>; without one the
    /// check fails with <see cref="InvalidOperationException"/>.
    /// </remarks>
    public static IHealthChecksBuilder AddCircuitBreakerHealthCheck(
        this IHealthChecksBuilder builder,
        string name = CircuitBreakerHealthCheckOptions.DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var options = new CircuitBreakerHealthCheckOptions { Name = name };
        if (failureStatus is { } status)
        {
            options.FailureStatus = status;
        }

        foreach (string tag in tags ?? [])
        {
            options.Tags.Add(tag);
        }

        return Add(builder, HealthCheckSettings.Create(options, static option => option switch
        {
            nameof(CircuitBreakerHealthCheckOptions.Name) => nameof(name),
            nameof(CircuitBreakerHealthCheckOptions.FailureStatus) => nameof(failureStatus),
            _ => nameof(tags),
        }));
    }

    /// <summary>
    /// Adds a health check that reports the circuits of the application, configured in code: which clients it
    /// checks and the status it reports for open, half-open and isolated circuits.
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddHealthChecks</c>.</param>
    /// <param name="configure">Sets the options. It runs once, before this method returns.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentException">
    /// An option is invalid. The message names each invalid option, its value and the fix.
    /// </exception>
    /// <example>
    /// <code>
    /// services.AddHealthChecks().AddCircuitBreakerHealthCheck(o =>
    /// {
    ///     o.FailureStatus = HealthStatus.Unhealthy;
    ///     o.Clients.Add("payments");
    ///     o.Tags.Add("ready");
    /// });
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddCircuitBreakerHealthCheck(this IHealthChecksBuilder builder, Action<CircuitBreakerHealthCheckOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);

        var options = new CircuitBreakerHealthCheckOptions();
        configure(options);
        return Add(builder, HealthCheckSettings.Create(options, static _ => nameof(configure)));
    }

    private static IHealthChecksBuilder Add(IHealthChecksBuilder builder, HealthCheckSettings settings)
    {
        var registration = new HealthCheckRegistration(
            settings.Name,
            provider => new CircuitBreakerHealthCheck(provider.GetService<ICircuitBreakerRegistry>(), settings),
            settings.FailureStatus,
            settings.Tags);
        return builder.Add(registration);
    }
}
