using System.Net;

namespace HttpBreaker.Tests.Support;

/// <summary>
/// A terminal handler that holds every request until the test releases it, so a test controls exactly when each
/// outcome reaches the breaker.
/// </summary>
internal sealed class GatedHandler : HttpMessageHandler
{
    private readonly List<PendingRequest> _pending = [];
    private int _received;

    public int Received => Volatile.Read(ref _received);

    /// <summary>Takes the oldest request that the test has not taken yet.</summary>
    public PendingRequest Next() => Take(newest: false);

    /// <summary>Takes the newest request that the test has not taken yet, leaving older ones pending.</summary>
    public PendingRequest TakeNewest() => Take(newest: true);

    /// <summary>
    /// Sends <paramref name="count"/> requests through <paramref name="client"/>, each failed with a 500 as soon as
    /// it arrives, leaving older pending requests as they are.
    /// </summary>
    public async Task FailThroughAsync(HttpClient client, int count = 1)
    {
        for (int i = 0; i < count; i++)
        {
            Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url);
            TakeNewest().Respond(HttpStatusCode.InternalServerError);
            (await sending).Dispose();
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _received);
        var pending = new PendingRequest(request, cancellationToken);
        lock (_pending)
        {
            _pending.Add(pending);
        }

        return pending.Completion.Task;
    }

    private PendingRequest Take(bool newest)
    {
        lock (_pending)
        {
            if (_pending.Count == 0)
            {
                throw new InvalidOperationException("No request is pending.");
            }

            int index = newest ? _pending.Count - 1 : 0;
            PendingRequest request = _pending[index];
            _pending.RemoveAt(index);
            return request;
        }
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
    }
}
