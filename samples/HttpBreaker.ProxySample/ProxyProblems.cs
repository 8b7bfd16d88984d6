using System.Globalization;
using System.Net;

namespace HttpBreaker.ProxySample;

/// <summary>
/// The JSON errors of the proxy, as RFC 9457 problem details (<c>application/problem+json</c>). Each carries a
/// <c>reason</c> that a client can switch on without parsing the title.
/// </summary>
internal static class ProxyProblems
{
    public static IResult CircuitRejected(string state, TimeSpan? retryAfter)
    {
        string detail = retryAfter is { } delay
            ? string.Create(CultureInfo.InvariantCulture, $"The circuit of the upstream is {state}, so the request was not sent. Retry after {delay.TotalSeconds:0} s.")
            : $"The circuit of the upstream is {state}, so the request was not sent. An operator must reset it.";
        var extensions = new Dictionary<string, object?>
        {
            ["reason"] = "circuit-" + state,
            ["circuit"] = ProxyApp.ClientName,
            ["retryAfterSeconds"] = retryAfter is { } seconds ? (int)seconds.TotalSeconds : null,
        };
        return Results.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Upstream circuit is not closed", extensions: extensions);
    }

    public static IResult UpstreamFailed(HttpStatusCode status, string? reasonPhrase)
    {
        int code = (int)status;
        var extensions = new Dictionary<string, object?>
        {
            ["reason"] = "upstream-status",
            ["upstreamStatus"] = code,
        };
        return Results.Problem(
            $"The upstream returned {code} {reasonPhrase}.",
            statusCode: code,
            title: "Upstream request failed",
            extensions: extensions);
    }

    public static IResult UpstreamUnreachable(HttpRequestError error)
    {
        var extensions = new Dictionary<string, object?>
        {
            ["reason"] = "upstream-unreachable",
            ["httpRequestError"] = error.ToString(),
        };
        return Results.Problem(
            $"The request to the upstream failed before a response arrived ({error}).",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Upstream is unreachable",
            extensions: extensions);
    }

    public static IResult UpstreamTimedOut()
    {
        var extensions = new Dictionary<string, object?> { ["reason"] = "upstream-timeout" };
        return Results.Problem(
            "The upstream did not respond within the breaker's Timeout.",
            statusCode: StatusCodes.Status504GatewayTimeout,
            title: "Upstream timed out",
            extensions: extensions);
    }

    public static IResult CircuitNotFound(string detail)
    {
        var extensions = new Dictionary<string, object?> { ["reason"] = "circuit-not-found" };
        return Results.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Circuit not found", extensions: extensions);
    }

    public static IResult EmptyPartition()
    {
        var extensions = new Dictionary<string, object?> { ["reason"] = "partition-empty" };
        return Results.Problem(
            "The partition query parameter is empty. Leave it out to act on every circuit of the client, or give a key from GET /circuits.",
            statusCode: StatusCodes.Status400BadRequest,
            title: "Partition key is empty",
            extensions: extensions);
    }

    public static IResult PartitionsFull(string detail)
    {
        var extensions = new Dictionary<string, object?> { ["reason"] = "partitions-full" };
        return Results.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Partition cannot be isolated", extensions: extensions);
    }
}
