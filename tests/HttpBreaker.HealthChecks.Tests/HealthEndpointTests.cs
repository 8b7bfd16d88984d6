using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace HttpBreaker.HealthChecks.Tests;

/// <summary>
/// Serves the check with <c>MapHealthChecks</c> from a real Kestrel server on 127.0.0.1 and reads it over a socket.
/// </summary>
public sealed class HealthEndpointTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(20);

    [Test]
    public async Task HealthEndpoint_CircuitOpensAndCloses_FollowsIt()
    {
        using var upstream = new MockHttpMessageHandler();
        var status = HttpStatusCode.InternalServerError;
        upstream.When("*").Respond(_ => new HttpResponseMessage(status));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
        await using WebApplication app = await StartAsync(upstream, time);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        HttpClient github = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("github");

        (await github.GetAsync("http://github.test/")).Dispose();
        (await github.GetAsync("http://github.test/")).Dispose();
        using HttpResponseMessage open = await http.GetAsync("/health");
        string openBody = await open.Content.ReadAsStringAsync();
        status = HttpStatusCode.OK;
        time.Advance(BreakDuration);
        (await github.GetAsync("http://github.test/")).Dispose();
        using HttpResponseMessage closed = await http.GetAsync("/health");

        Assert.That(open.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        using JsonDocument report = JsonDocument.Parse(openBody);
        JsonElement check = report.RootElement.GetProperty("checks").GetProperty("circuit-breakers");
        Assert.That(check.GetProperty("status").GetString(), Is.EqualTo("Unhealthy"));
        Assert.That(check.GetProperty("description").GetString(), Is.EqualTo("1 of 1 circuits not closed: github (open)"));
        JsonElement circuit = check.GetProperty("data").GetProperty("github");
        Assert.That(circuit.GetProperty("state").GetString(), Is.EqualTo("open"));
        Assert.That(circuit.GetProperty("nextProbeAt").GetDateTimeOffset(), Is.EqualTo(time.GetUtcNow()));
        Assert.That(closed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await closed.Content.ReadAsStringAsync(), Does.Contain("\"status\":\"Healthy\""));
    }

    private static async Task<WebApplication> StartAsync(HttpMessageHandler upstream, TimeProvider time)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(time);
        builder.Services.AddHttpClient("github")
            .ConfigurePrimaryHttpMessageHandler(() => upstream)
            .AddCircuitBreaker(o => { o.FailureThreshold = 2; o.BreakDuration = BreakDuration; });
        builder.Services.AddHealthChecks().AddCircuitBreakerHealthCheck(failureStatus: HealthStatus.Unhealthy);

        WebApplication app = builder.Build();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteJsonAsync });
        await app.StartAsync();
        return app;
    }

    private static Task WriteJsonAsync(HttpContext context, HealthReport report)
    {
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description, data = entry.Value.Data }),
        };
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}
