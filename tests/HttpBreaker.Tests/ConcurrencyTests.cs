using System.Net;
using HttpBreaker.Tests.Support;

namespace HttpBreaker.Tests;

/// <summary>
/// Races real tasks on several threads against one circuit.
/// </summary>
public class ConcurrencyTests
{
    private const int Callers = 64;
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    [Test]
    [Repeat(20)]
    public async Task HalfOpen_ManyConcurrentCallers_ExactlyOneProbe()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1, gate);
        using HttpClient client = services.CreateClient();
        Task<HttpResponseMessage> first = client.GetAsync(BreakerServices.Url);
        gate.Next().Respond(HttpStatusCode.InternalServerError);
        (await first).Dispose();
        services.Time.Advance(BreakDuration);

        Task<HttpResponseMessage>[] racing = await Racing.StartTogetherAsync(Callers, () => client.GetAsync(BreakerServices.Url));
        Task<HttpResponseMessage>[] rejected = racing.Where(task => task.IsCompleted).ToArray();

        Assert.That(gate.Received, Is.EqualTo(2), "one failure, then exactly one probe");
        Assert.That(rejected, Has.Length.EqualTo(Callers - 1));
        foreach (Task<HttpResponseMessage> task in rejected)
        {
            using HttpResponseMessage response = await task;
            Assert.That(CircuitBreakerHandler.IsRejection(response), Is.True);
        }

        gate.Next().Respond(HttpStatusCode.OK);
        await Task.WhenAll(racing);

        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    [Repeat(20)]
    public async Task Closed_ConcurrentFailures_OpenOnce()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 10);
        services.Status = HttpStatusCode.InternalServerError;
        using HttpClient client = services.CreateClient();

        Task<HttpResponseMessage>[] racing = await Racing.StartTogetherAsync(Callers, () => client.GetAsync(BreakerServices.Url));
        HttpResponseMessage[] responses = await Task.WhenAll(racing);

        int opened = services.Logs.Entries.Count(entry => entry.EventId == 1);
        int sent = responses.Count(response => !CircuitBreakerHandler.IsRejection(response));
        Assert.That(opened, Is.EqualTo(1));
        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.UpstreamCalls, Is.EqualTo(sent));
        Assert.That(sent, Is.InRange(10, Callers));
    }

    [Test]
    [Repeat(10)]
    public async Task MixedTrafficAndControl_EndsInConsistentState()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 3);
        services.Status = HttpStatusCode.InternalServerError;
        using HttpClient client = services.CreateClient();

        Task<HttpResponseMessage>[] racing = await Racing.StartTogetherAsync(Callers, () => client.GetAsync(BreakerServices.Url));
        Task isolating = Task.Run(() => services.Registry.Isolate(BreakerServices.ClientName));
        await Task.WhenAll(racing);
        await isolating;

        Assert.That(services.State, Is.EqualTo(CircuitState.Isolated));

        services.Registry.Reset(BreakerServices.ClientName);
        services.Status = HttpStatusCode.OK;
        using HttpResponseMessage afterReset = await client.GetAsync(BreakerServices.Url);

        Assert.That(afterReset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(services.State, Is.EqualTo(CircuitState.Closed));
    }
}
