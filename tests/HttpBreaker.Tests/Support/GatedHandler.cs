using System.Collections.Concurrent;
using System.Net;

namespace HttpBreaker.Tests.Support;

/// <summary>
/// A terminal handler that holds every request until the test releases it, so a test controls exactly when each
/// outcome reaches the breaker.
/// </summary>
internal sealed class GatedHandler : HttpMessageHandler
{
    private readonly ConcurrentQueue<PendingRequest> _pending = new();
    private int _received;

    public int Received => Volatile.Read(ref _received);

    /// <summary>Takes the oldest request that has not been released yet.</summary>
    public PendingRequest Next() =>
        _pending.TryDequeue(out PendingRequest? request) ? request : throw new InvalidOperationException("No request is pending.");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _received);
        var pending = new PendingRequest(request, cancellationToken);
        _pending.Enqueue(pending);
        return pending.Completion.Task;
    }

    internal sealed class PendingRequest
    {
        public PendingRequest(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Request = request;
            cancellationToken.Register(() => Completion.TrySetCanceled(cancellationToken));
        }

        public HttpRequestMessage Request { get; }

        public TaskCompletionSource<HttpResponseMessage> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Respond(HttpStatusCode status) => Completion.SetResult(new HttpResponseMessage(status) { RequestMessage = Request });

        public void Fail(Exception exception) => Completion.SetException(exception);
    }
}
