using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace HttpBreaker.Redis.Tests;

/// <summary>
/// A shared client keeps the breaker's own metrics, although its circuits report to the fleet first. No Redis server
/// is needed: the client's closed path never touches Redis.
/// </summary>
public class SharedClientTelemetryTests
{
    [Test]
    public async Task SharedClient_RecordsRequestOutcomes()
    {
        long outcomes = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, meterListener) =>
        {
            if (instrument.Meter.Name == "HttpBreaker" && instrument.Name == "httpbreaker.request.outcomes")
            {
                meterListener.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref outcomes, value));
        listener.Start();

        var services = new ServiceCollection();
        services.AddHttpClient("catalog", client => client.BaseAddress = new Uri("http://127.0.0.1/"))
            .ConfigurePrimaryHttpMessageHandler(() => new StatusHandler())
            .AddCircuitBreaker()
            .ShareThroughRedis(options => options.Configuration = "127.0.0.1:1,connectTimeout=200");
        await using ServiceProvider provider = services.BuildServiceProvider();
        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");

        using HttpResponseMessage response = await client.GetAsync("/");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(Interlocked.Read(ref outcomes), Is.EqualTo(1));
    }

    /// <summary>Responds 200 to every request without a network.</summary>
    private sealed class StatusHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
    }
}
