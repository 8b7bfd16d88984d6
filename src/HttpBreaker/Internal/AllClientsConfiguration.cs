using Microsoft.Extensions.Options;

namespace HttpBreaker.Internal;

/// <summary>
/// The settings given to every client, applied before any configuration of one client. It is registered first
/// among the option configurations, so a named <c>Configure</c> wins over it whatever the registration order.
/// </summary>
internal sealed class AllClientsConfiguration : IConfigureNamedOptions<CircuitBreakerOptions>
{
    private readonly List<Action<string, CircuitBreakerOptions>> _actions = [];

    public void Add(Action<string, CircuitBreakerOptions> action) => _actions.Add(action);

    public void Configure(string? name, CircuitBreakerOptions options)
    {
        foreach (Action<string, CircuitBreakerOptions> action in _actions)
        {
            action(name ?? Options.DefaultName, options);
        }
    }

    public void Configure(CircuitBreakerOptions options) => Configure(Options.DefaultName, options);
}
