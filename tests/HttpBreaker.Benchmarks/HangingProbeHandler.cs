using System.Net;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// A primary handler that fails the first request and never completes the second, so a breaker with a threshold of
/// one opens, and after its break stays half-open with its only probe in flight.
/// </summary>
internal sealed class HangingProbeHandler : HttpMessageHandler
{
    private readonly TaskCompletionSource<HttpResponseMessage> _pendingProbe = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Interlocked.Increment(ref _calls) switch
        {
            1 => Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError) { RequestMessage = request }),
            2 => _pendingProbe.Task,
            _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request }),
        };
}
