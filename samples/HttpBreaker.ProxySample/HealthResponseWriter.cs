using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HttpBreaker.ProxySample;

/// <summary>
/// Writes a health report as JSON: the overall status, and per check its status, description and data, which for
/// the circuit breaker check lists each circuit that is not closed.
/// </summary>
internal static class HealthResponseWriter
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => new
                {
                    status = entry.Value.Status.ToString(),
                    description = entry.Value.Description,
                    data = entry.Value.Data,
                }),
        };

        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, JsonSerializerOptions.Web, context.RequestAborted);
    }
}
