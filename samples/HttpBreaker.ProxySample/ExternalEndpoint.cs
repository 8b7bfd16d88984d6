using System.Net.Http.Headers;

namespace HttpBreaker.ProxySample;

/// <summary>
/// <c>GET /api/v1/external</c>: forwards the request to the upstream through the breaker and turns each outcome
/// into a response for the caller.
/// </summary>
internal static partial class ExternalEndpoint
{
    /// <summary>The log category of the proxy's own messages about upstream failures.</summary>
    public const string LogCategory = "HttpBreaker.ProxySample.External";

    /// <summary>
    /// Sends the request and writes the result: the upstream's body and content type on a 2xx, the upstream's
    /// status with a JSON error otherwise, 503 while the circuit rejects requests or the upstream is unreachable,
    /// and 504 when the breaker's <c>Timeout</c> cancelled the attempt.
    /// </summary>
    public static async Task HandleAsync(HttpContext context, IHttpClientFactory clients, ILoggerFactory loggers)
    {
        ILogger logger = loggers.CreateLogger(LogCategory);
        HttpClient client = clients.CreateClient(ProxyApp.ClientName);
        HttpResponseMessage response;
        try
        {
            // Headers only, so a large body streams through instead of being buffered here.
            response = await client.GetAsync(FlakyUpstream.DataPath, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (TaskCanceledException exception) when (exception.InnerException is TimeoutException)
        {
            // The breaker's Timeout and HttpClient.Timeout both end an attempt this way.
            LogTimedOut(logger, ProxyApp.ClientName, exception);
            await ProxyProblems.UpstreamTimedOut().ExecuteAsync(context);
            return;
        }
        catch (HttpRequestException exception)
        {
            LogUnreachable(logger, ProxyApp.ClientName, exception.HttpRequestError, exception);
            await ProxyProblems.UpstreamUnreachable(exception.HttpRequestError).ExecuteAsync(context);
            return;
        }

        using (response)
        {
            RetryConditionHeaderValue? retryAfter = response.Headers.RetryAfter;
            if (CircuitBreakerHandler.IsRejection(response))
            {
                string state = response.Headers.TryGetValues(CircuitBreakerHandler.RejectionHeaderName, out IEnumerable<string>? values)
                    ? values.First()
                    : "open";
                CopyRetryAfter(retryAfter, context);
                await ProxyProblems.CircuitRejected(state, retryAfter?.Delta).ExecuteAsync(context);
                return;
            }

            if (!response.IsSuccessStatusCode)
            {
                LogUpstreamFailed(logger, ProxyApp.ClientName, (int)response.StatusCode);
                CopyRetryAfter(retryAfter, context);
                await ProxyProblems.UpstreamFailed(response.StatusCode, response.ReasonPhrase).ExecuteAsync(context);
                return;
            }

            await PassThroughAsync(response, context);
        }
    }

    private static async Task PassThroughAsync(HttpResponseMessage response, HttpContext context)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        context.Response.ContentLength = response.Content.Headers.ContentLength;
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>
    /// Passes the upstream's or the breaker's <c>Retry-After</c> on, so the caller backs off as long as the
    /// circuit or the upstream asked.
    /// </summary>
    private static void CopyRetryAfter(RetryConditionHeaderValue? retryAfter, HttpContext context)
    {
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter.ToString();
        }
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Upstream of client {ClientName} timed out")]
    private static partial void LogTimedOut(ILogger logger, string clientName, Exception exception);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Upstream of client {ClientName} is unreachable ({HttpRequestError})")]
    private static partial void LogUnreachable(ILogger logger, string clientName, HttpRequestError httpRequestError, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Upstream of client {ClientName} returned {StatusCode}")]
    private static partial void LogUpstreamFailed(ILogger logger, string clientName, int statusCode);
}
