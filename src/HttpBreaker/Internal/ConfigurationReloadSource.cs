using Microsoft.Extensions.Configuration;

namespace HttpBreaker.Internal;

/// <summary>
/// A configuration section that circuit breaker options are bound from, watched by the registry for reloads.
/// </summary>
/// <remarks>
/// The registry watches these itself instead of registering them as option change sources. The options monitor
/// rebuilds and validates options inside the change callback, so an invalid reload would throw out of the
/// configuration provider, where no caller can handle it. The registry validates a reload itself and keeps the
/// previous options when it is invalid.
/// </remarks>
internal sealed class ConfigurationReloadSource(IConfiguration section, IConfiguration? clientsSection)
{
    public IConfiguration Section { get; } = section;

    /// <summary>Gets the <c>Clients</c> section of the documented shape, or <see langword="null"/> for a plain options section.</summary>
    public IConfiguration? ClientsSection { get; } = clientsSection;
}
