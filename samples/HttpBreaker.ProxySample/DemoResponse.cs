using System.Net;
using System.Text.Json;

namespace HttpBreaker.ProxySample;

/// <summary>
/// A response that the demo received from the proxy, read whole.
/// </summary>
internal sealed record DemoResponse(string Request, HttpStatusCode Status, string? ContentType, TimeSpan? RetryAfter, string Body)
{
    /// <summary>The body parsed as JSON, or <see langword="null"/> when it is not JSON.</summary>
    public JsonElement? Json
    {
        get
        {
            if (ContentType is null || !ContentType.Contains("json", StringComparison.Ordinal))
            {
                return null;
            }

            try
            {
                return JsonDocument.Parse(Body).RootElement.Clone();
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>The <c>reason</c> of a problem body, such as <c>circuit-open</c>.</summary>
    public string? Reason =>
        Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("reason", out JsonElement reason) ? reason.GetString() : null;

    public override string ToString()
    {
        string retryAfter = RetryAfter is { } delay ? $" Retry-After: {delay.TotalSeconds:0}" : "";
        string summary;
        if (Reason is { } reason)
        {
            summary = $"reason {reason}";
        }
        else
        {
            summary = Body.Length > 80 ? Body[..80] + "..." : Body;
        }

        return $"{Request} -> {(int)Status}{retryAfter}, {summary}";
    }
}
