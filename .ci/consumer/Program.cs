// A minimal application that uses HttpBreaker the way an application does. .ci/pack-check runs it against the built
// package and .ci/aot-check compiles it with native AOT. It exits 0 only when the circuit opened after the
// configured failures and the next request got the synthetic 503 without reaching the upstream.
using System.Net;
using HttpBreaker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

const string ClientName = "upstream";
const int FailureThreshold = 2;

// Options come from configuration, because configuration binding fails under trimming and AOT unless the library's
// binding source generator covers it.
IConfiguration configuration = new ConfigurationBuilder()
    .AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Breaker:FailureThreshold"] = FailureThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Breaker:BreakDuration"] = "00:05:00",
    })
    .Build();

var upstreamCalls = new CallCounter();
var services = new ServiceCollection();
services.AddHttpClient(ClientName, client => client.BaseAddress = new Uri("http://127.0.0.1/"))
    .ConfigurePrimaryHttpMessageHandler(() => new FailingUpstreamHandler(upstreamCalls))
    .AddCircuitBreaker(configuration.GetSection("Breaker"));

using ServiceProvider provider = services.BuildServiceProvider();
HttpClient httpClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);
var errors = new List<string>();

for (int attempt = 1; attempt <= FailureThreshold; attempt++)
{
    using HttpResponseMessage failure = await httpClient.GetAsync(new Uri("status", UriKind.Relative));
    if (failure.StatusCode != HttpStatusCode.InternalServerError || CircuitBreakerHandler.IsRejection(failure))
    {
        errors.Add($"request {attempt} returned {(int)failure.StatusCode}; expected the upstream's own 500");
    }
}

using HttpResponseMessage rejected = await httpClient.GetAsync(new Uri("status", UriKind.Relative));
if (!CircuitBreakerHandler.IsRejection(rejected))
{
    errors.Add("the request after the failures was not a synthetic rejection");
}
if (rejected.StatusCode != HttpStatusCode.ServiceUnavailable)
{
    errors.Add($"the rejection has status {(int)rejected.StatusCode}; expected 503");
}
if (upstreamCalls.Count != FailureThreshold)
{
    errors.Add($"the upstream received {upstreamCalls.Count} requests; expected {FailureThreshold}");
}

var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();
if (!registry.TryGetCircuit(ClientName, out CircuitSnapshot? circuit) || circuit is not { State: CircuitState.Open })
{
    errors.Add($"the registry reports the circuit as {circuit?.State.ToString() ?? "missing"}; expected Open");
}

foreach (string error in errors)
{
    Console.Error.WriteLine($"error: {error}");
}
if (errors.Count > 0)
{
    return 1;
}
Console.WriteLine($"ok: the circuit opened after {FailureThreshold} failures and the next request got a synthetic 503");
return 0;

/// <summary>Number of requests that reached the in-memory upstream.</summary>
internal sealed class CallCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Increment() => Interlocked.Increment(ref _count);
}

/// <summary>An in-memory upstream that returns 500 for every request, so nothing crosses the network.</summary>
internal sealed class FailingUpstreamHandler(CallCounter calls) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        calls.Increment();
        return Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError) { RequestMessage = request });
    }
}
