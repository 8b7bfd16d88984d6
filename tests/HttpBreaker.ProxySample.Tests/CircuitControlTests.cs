using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HttpBreaker.ProxySample.Tests.Support;

namespace HttpBreaker.ProxySample.Tests;

/// <summary>
/// The operator endpoints under <c>/circuits</c>, over real sockets.
/// </summary>
public sealed class CircuitControlTests
{
    [Test]
    public async Task Isolate_ThenReset_RejectsThenPasses()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();
        int received = proxy.Upstream.RequestCount;

        using HttpResponseMessage isolate = await proxy.PostAsync("circuits/external/isolate");
        List<CircuitView>? isolated = await isolate.Content.ReadFromJsonAsync<List<CircuitView>>(JsonSerializerOptions.Web);
        using HttpResponseMessage rejected = await proxy.GetExternalAsync();
        string? healthWhileIsolated = await proxy.GetHealthStatusAsync();
        using HttpResponseMessage reset = await proxy.PostAsync("circuits/external/reset");
        List<CircuitView>? closed = await reset.Content.ReadFromJsonAsync<List<CircuitView>>(JsonSerializerOptions.Web);
        using HttpResponseMessage passed = await proxy.GetExternalAsync();

        Assert.That(isolate.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(isolated!.Select(circuit => circuit.State), Is.EqualTo(new[] { "isolated" }));
        Assert.That(rejected.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(rejected.Headers.RetryAfter, Is.Null);
        Assert.That(await ProxyFixture.ReadReasonAsync(rejected), Is.EqualTo("circuit-isolated"));
        Assert.That(healthWhileIsolated, Is.EqualTo("Degraded"));
        Assert.That(reset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(closed!.Select(circuit => circuit.State), Is.EqualTo(new[] { "closed" }));
        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(proxy.Upstream.RequestCount, Is.EqualTo(received + 1));
    }

    [Test]
    public async Task Reset_OpenCircuit_ClosesWithoutWaiting()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();
        await proxy.OpenCircuitAsync();
        proxy.Upstream.Mode = UpstreamMode.Healthy;

        using HttpResponseMessage reset = await proxy.PostAsync("circuits/external/reset");
        using HttpResponseMessage passed = await proxy.GetExternalAsync();

        Assert.That(reset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await proxy.GetHealthStatusAsync(), Is.EqualTo("Healthy"));
    }

    [TestCase("circuits/missing/isolate")]
    [TestCase("circuits/missing/reset")]
    [TestCase("circuits/missing/isolate?partition=http://127.0.0.1:80")]
    public async Task Control_UnknownClient_Returns404Json(string path)
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();

        using HttpResponseMessage response = await proxy.PostAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        using JsonDocument problem = await ProxyFixture.ReadJsonAsync(response);
        Assert.That(problem.RootElement.GetProperty("reason").GetString(), Is.EqualTo("circuit-not-found"));
        Assert.That(problem.RootElement.GetProperty("detail").GetString(), Does.Contain("missing"));
    }

    [Test]
    public async Task Isolate_PartitionOfUnpartitionedClient_Returns404()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();

        using HttpResponseMessage response = await proxy.PostAsync("circuits/external/isolate?partition=http://127.0.0.1:80");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await ProxyFixture.ReadReasonAsync(response), Is.EqualTo("circuit-not-found"));
    }

    [Test]
    public async Task Control_EmptyPartition_Returns400()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();

        using HttpResponseMessage response = await proxy.PostAsync("circuits/external/isolate?partition=");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await ProxyFixture.ReadReasonAsync(response), Is.EqualTo("partition-empty"));
    }

    [Test]
    public async Task Isolate_Partition_ActsOnThatPartitionOnly()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync("--HttpBreaker:Clients:external:PartitionBy=Authority");
        string key = $"http://127.0.0.1:{proxy.Upstream.Address.Port}";
        string query = "?partition=" + Uri.EscapeDataString(key);

        using HttpResponseMessage isolate = await proxy.PostAsync("circuits/external/isolate" + query);
        List<CircuitView>? isolated = await isolate.Content.ReadFromJsonAsync<List<CircuitView>>(JsonSerializerOptions.Web);
        using HttpResponseMessage rejected = await proxy.GetExternalAsync();
        using HttpResponseMessage reset = await proxy.PostAsync("circuits/external/reset" + query);
        using HttpResponseMessage passed = await proxy.GetExternalAsync();

        Assert.That(isolate.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        CircuitView partition = isolated!.Single();
        Assert.That(partition.Name, Is.EqualTo("external/" + key));
        Assert.That(partition.PartitionKey, Is.EqualTo(key));
        Assert.That(partition.State, Is.EqualTo("isolated"));
        Assert.That(proxy.Registry.TryGetCircuit(ProxyApp.ClientName, out CircuitSnapshot? own), Is.True);
        Assert.That(own!.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(await ProxyFixture.ReadReasonAsync(rejected), Is.EqualTo("circuit-isolated"));
        Assert.That(reset.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Reset_UnknownPartition_Returns404()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync("--HttpBreaker:Clients:external:PartitionBy=Authority");

        using HttpResponseMessage response = await proxy.PostAsync("circuits/external/reset?partition=" + Uri.EscapeDataString("http://127.0.0.1:1"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await ProxyFixture.ReadReasonAsync(response), Is.EqualTo("circuit-not-found"));
    }

    [Test]
    public async Task ListCircuits_BeforeFirstRequest_IsEmpty()
    {
        await using ProxyFixture proxy = await ProxyFixture.StartAsync();

        List<CircuitView>? circuits = await proxy.Http.GetFromJsonAsync<List<CircuitView>>("circuits", JsonSerializerOptions.Web);

        Assert.That(circuits, Is.Empty);
    }
}
