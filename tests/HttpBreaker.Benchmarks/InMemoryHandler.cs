using System.Net;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// A primary handler that responds to every request in memory with a new response of one status, completed
/// synchronously, so a benchmark measures the client pipeline and none of the network.
/// </summary>
/// <remarks>
/// Each request gets a new response, as from a real handler, so callers can dispose it.
/// </remarks>
internal sealed class InMemoryHandler(HttpStatusCode status) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(Send(request, cancellationToken));

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        new(status) { RequestMessage = request };
}
