using System.Diagnostics.Metrics;
using System.Net;
using HttpBreaker.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace HttpBreaker.Tests;

/// <summary>
/// Counts the bytes that the closed path allocates on the calling thread, with an inner handler that completes
/// synchronously and allocates nothing, so every byte counted belongs to the handler under test.
/// </summary>
public class AllocationTests
{
    private const int Iterations = 10_000;

    [Test]
    public async Task SendAsync_Closed_AllocatesNothingOfItsOwn()
    {
        var circuit = new Circuit("alloc", new CircuitBreakerOptions(), TimeProvider.System, NullLogger.Instance);
        using var breaker = new HttpMessageInvoker(new CircuitBreakerHandler(circuit, NullLogger.Instance) { InnerHandler = new CompletedHandler() });
        using var passThrough = new HttpMessageInvoker(new PassThroughHandler { InnerHandler = new CompletedHandler() });
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream.test/");

        long passThroughBytes = await MeasureAsync(passThrough, request);
        long breakerBytes = await MeasureAsync(breaker, request);

        Assert.That(breakerBytes, Is.EqualTo(passThroughBytes));
        Assert.That(breakerBytes, Is.Zero);
    }

    [Test]
    public void Send_Closed_AllocatesNothingOfItsOwn()
    {
        var circuit = new Circuit("alloc", new CircuitBreakerOptions(), TimeProvider.System, NullLogger.Instance);
        using var breaker = new HttpMessageInvoker(new CircuitBreakerHandler(circuit, NullLogger.Instance) { InnerHandler = new CompletedHandler() });
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream.test/");

        for (int i = 0; i < Iterations; i++)
        {
            breaker.Send(request, CancellationToken.None);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++)
        {
            breaker.Send(request, CancellationToken.None);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
    }

    [TestCase(false, TestName = "SendAsync_ClosedWithTelemetry_NoListener_AllocatesNothingOfItsOwn")]
    [TestCase(true, TestName = "SendAsync_ClosedWithTelemetry_Listening_AllocatesNothingOfItsOwn")]
    public async Task SendAsync_ClosedWithTelemetry_AllocatesNothingOfItsOwn(bool listening)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("alloc").AddCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();
        ClientCircuits client = provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient("alloc");
        Assert.That(client.Telemetry, Is.Not.Null);

        long measurements = 0;
        using var listener = new MeterListener();
        if (listening)
        {
            // Listens the way an exporter does: every instrument of the meter, each value handed to a callback.
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "HttpBreaker")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref measurements, value));
            listener.Start();
        }

        using var breaker = new HttpMessageInvoker(new CircuitBreakerHandler(client, NullLogger.Instance) { InnerHandler = new CompletedHandler() });
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://upstream.test/");

        long allocated = await MeasureAsync(breaker, request);

        Assert.That(allocated, Is.Zero);
        Assert.That(Interlocked.Read(ref measurements), Is.EqualTo(listening ? 2 * Iterations : 0), "every outcome is counted while listening");
    }

    private static async Task<long> MeasureAsync(HttpMessageInvoker invoker, HttpRequestMessage request)
    {
        // The first calls JIT-compile and tier up the path; only the steady state is counted.
        for (int i = 0; i < Iterations; i++)
        {
            await invoker.SendAsync(request, CancellationToken.None);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++)
        {
            await invoker.SendAsync(request, CancellationToken.None);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private sealed class CompletedHandler : HttpMessageHandler
    {
        private readonly HttpResponseMessage _response = new(HttpStatusCode.OK);
        private readonly Task<HttpResponseMessage> _completed;

        public CompletedHandler() => _completed = Task.FromResult(_response);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => _completed;

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) => _response;
    }

    private sealed class PassThroughHandler : DelegatingHandler
    {
    }
}
