using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace HttpBreaker.ProxySample;

/// <summary>
/// Builds the proxy: a minimal API on 127.0.0.1 that forwards <c>GET /api/v1/external</c> to an upstream through the
/// breaker-protected client <c>external</c>, lists and controls circuits under <c>/circuits</c>, and serves the
/// circuit breaker health check at <c>/health</c>.
/// </summary>
public static class ProxyApp
{
    /// <summary>The name of the breaker-protected client, and the key of its options under <c>HttpBreaker:Clients</c>.</summary>
    public const string ClientName = "external";

    /// <summary>The configuration key of the port to listen on. The default, 0, picks an ephemeral port.</summary>
    public const string PortKey = "Proxy:Port";

    /// <summary>
    /// Creates the application without starting it.
    /// </summary>
    /// <param name="args">
    /// Command-line configuration, such as <c>--HttpBreaker:Clients:external:FailureThreshold=5</c>, which overrides
    /// <c>appsettings.json</c>.
    /// </param>
    /// <param name="upstream">The base address that the <c>external</c> client sends to.</param>
    /// <param name="configure">
    /// Changes the builder before the application is built, such as a test that registers a fake
    /// <see cref="TimeProvider"/> for the breaker.
    /// </param>
    /// <returns>The application; start it with <c>StartAsync</c> and read its address with <see cref="GetAddress"/>.</returns>
    public static WebApplication Build(string[] args, Uri upstream, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(upstream);

        // The content root is the output folder, where appsettings.json is copied, so the settings are found
        // whichever folder the application or a test runs from.
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // The control endpoints below change what the application does, so the server accepts connections from
        // this machine only. An explicit Listen also wins over ASPNETCORE_URLS.
        int port = builder.Configuration.GetValue(PortKey, 0);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));

        // The whole HttpBreaker section binds at once: Defaults for every client, Clients:external for this one. An
        // edit to appsettings.json reaches the running circuit without resetting it.
        builder.Services.AddHttpClient(ClientName, client => client.BaseAddress = upstream).AddCircuitBreaker();
        builder.Services.ConfigureCircuitBreakers(builder.Configuration.GetSection("HttpBreaker"));
        builder.Services.AddHealthChecks().AddCircuitBreakerHealthCheck();
        builder.Services.AddProblemDetails();
        configure?.Invoke(builder);

        WebApplication app = builder.Build();

        // An unexpected exception becomes a problem response too, so a caller always gets JSON on an error.
        app.UseExceptionHandler();
        app.MapGet("/api/v1/external", ExternalEndpoint.HandleAsync);
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });

        // NOTE: these endpoints have no authentication. Listening on loopback keeps other machines out, but not other
        // processes on this one. Before the server listens anywhere else, require an operator policy, such as
        // app.MapGroup("/circuits").RequireAuthorization("operators"), or serve them on a separate internal port.
        CircuitEndpoints.Map(app.MapGroup("/circuits"));
        return app;
    }

    /// <summary>
    /// Returns the address that a started application listens on, such as <c>http://127.0.0.1:41234/</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The application has not been started.</exception>
    public static Uri GetAddress(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        ICollection<string>? addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        string address = addresses?.FirstOrDefault()
            ?? throw new InvalidOperationException("The proxy has no address yet. Call StartAsync before GetAddress.");
        return new Uri(address.TrimEnd('/') + "/");
    }
}
