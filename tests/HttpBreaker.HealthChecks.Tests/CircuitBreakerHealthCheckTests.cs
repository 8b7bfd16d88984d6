using System.Net;
using HttpBreaker.HealthChecks.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HttpBreaker.HealthChecks.Tests;

public sealed class CircuitBreakerHealthCheckTests
{
    private const string GitHubUrl = "http://github.test/repos";
    private const string PaymentsUrl = "http://payments.test/charges";

    [Test]
    public async Task CheckHealth_NoCircuitYet_ReportsHealthy()
    {
        using var fixture = BreakerFixture.Create();

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(entry.Description, Does.StartWith("No circuit to check"));
        Assert.That(entry.Data, Is.Empty);
    }

    [Test]
    public async Task CheckHealth_AllClosed_ReportsHealthy()
    {
        using var fixture = BreakerFixture.Create();
        await fixture.SendAsync("github", GitHubUrl);
        fixture.Touch("payments");

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(entry.Description, Is.EqualTo("All 2 circuits checked are closed."));
        Assert.That(entry.Data, Is.Empty);
    }

    [Test]
    public async Task CheckHealth_OpenCircuit_ReportsDegradedByDefault()
    {
        using var fixture = BreakerFixture.Create();
        fixture.Touch("payments");
        await fixture.OpenAsync("github", GitHubUrl);

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(entry.Description, Is.EqualTo("1 of 2 circuits not closed: github (open)"));
    }

    [Test]
    public async Task CheckHealth_OpenCircuit_DataDescribesCircuit()
    {
        using var fixture = BreakerFixture.Create();
        DateTimeOffset openedAt = fixture.Time.GetUtcNow();
        await fixture.OpenAsync("github", GitHubUrl);

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Data.Keys, Is.EquivalentTo(new[] { "github" }));
        var circuit = (CircuitHealthEntry)entry.Data["github"];
        Assert.That(circuit.Name, Is.EqualTo("github"));
        Assert.That(circuit.ClientName, Is.EqualTo("github"));
        Assert.That(circuit.PartitionKey, Is.Null);
        Assert.That(circuit.State, Is.EqualTo("open"));
        Assert.That(circuit.OpenedAt, Is.EqualTo(openedAt));
        Assert.That(circuit.NextProbeAt, Is.EqualTo(openedAt + BreakerFixture.BreakDuration));
        Assert.That(circuit.ConsecutiveFailures, Is.EqualTo(BreakerFixture.FailureThreshold));
    }

    [Test]
    public async Task CheckHealth_FailureStatusUnhealthy_ReportsUnhealthy()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(failureStatus: HealthStatus.Unhealthy));
        await fixture.OpenAsync("github", GitHubUrl);

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Unhealthy));
    }

    [Test]
    public async Task CheckHealth_ProbeInFlight_ReportsHalfOpen()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(o => o.FailureStatus = HealthStatus.Unhealthy));
        await fixture.OpenAsync("github", GitHubUrl);
        fixture.Time.Advance(BreakerFixture.BreakDuration);
        fixture.HoldRequests();
        Task<HttpStatusCode> probe = fixture.SendAsync("github", GitHubUrl);

        HealthReportEntry entry = await fixture.CheckAsync();
        fixture.ReleaseHeld();
        await probe;

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(entry.Description, Is.EqualTo("1 of 1 circuits not closed: github (half-open)"));
        var circuit = (CircuitHealthEntry)entry.Data["github"];
        Assert.That(circuit.State, Is.EqualTo("half-open"));
        Assert.That(circuit.NextProbeAt, Is.Null);
    }

    [Test]
    public async Task CheckHealth_ProbeSucceeded_ReportsHealthyAgain()
    {
        using var fixture = BreakerFixture.Create();
        await fixture.OpenAsync("github", GitHubUrl);
        fixture.FailingHosts.Clear();
        fixture.Time.Advance(BreakerFixture.BreakDuration);

        HttpStatusCode probe = await fixture.SendAsync("github", GitHubUrl);
        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(probe, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(entry.Data, Is.Empty);
    }

    [Test]
    public async Task CheckHealth_Isolated_IgnoresFailureStatus()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(failureStatus: HealthStatus.Unhealthy));
        fixture.Touch("github");
        fixture.Registry.Isolate("github");

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(entry.Description, Is.EqualTo("1 of 1 circuits not closed: github (isolated)"));
        var circuit = (CircuitHealthEntry)entry.Data["github"];
        Assert.That(circuit.State, Is.EqualTo("isolated"));
        Assert.That(circuit.OpenedAt, Is.EqualTo(fixture.Time.GetUtcNow()));
        Assert.That(circuit.NextProbeAt, Is.Null);
    }

    [Test]
    public async Task CheckHealth_IsolatedStatusUnhealthy_ReportsUnhealthy()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(o => o.IsolatedStatus = HealthStatus.Unhealthy));
        fixture.Registry.Isolate("github");

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Unhealthy));
    }

    [Test]
    public async Task CheckHealth_IsolatedStatusHealthy_StillListsCircuit()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(o => o.IsolatedStatus = HealthStatus.Healthy));
        fixture.Registry.Isolate("github");

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(entry.Data.Keys, Is.EquivalentTo(new[] { "github" }));
    }

    [Test]
    public async Task CheckHealth_OpenAndIsolated_ReportsWorstStatus()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(failureStatus: HealthStatus.Unhealthy));
        await fixture.OpenAsync("payments", PaymentsUrl);
        fixture.Registry.Isolate("github");

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(entry.Description, Is.EqualTo("2 of 2 circuits not closed: github (isolated), payments (open)"));
    }

    [Test]
    public async Task CheckHealth_ClientsFilter_IgnoresOtherClients()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(o => o.Clients.Add("payments")));
        await fixture.OpenAsync("github", GitHubUrl);
        await fixture.SendAsync("payments", PaymentsUrl);

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(entry.Description, Is.EqualTo("The 1 circuit checked is closed."));
    }

    [Test]
    public async Task CheckHealth_ClientsFilter_ReportsSelectedClient()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(o => o.Clients.Add("github")));
        await fixture.OpenAsync("github", GitHubUrl);
        await fixture.OpenAsync("payments", PaymentsUrl);

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(entry.Data.Keys, Is.EquivalentTo(new[] { "github" }));
    }

    [Test]
    public async Task CheckHealth_CircuitFilter_SkipsFilteredOut()
    {
        using var fixture = BreakerFixture.Create(checks =>
            checks.AddCircuitBreakerHealthCheck(o => o.CircuitFilter = circuit => circuit.ClientName != "github"));
        await fixture.OpenAsync("github", GitHubUrl);
        await fixture.OpenAsync("payments", PaymentsUrl);

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Data.Keys, Is.EquivalentTo(new[] { "payments" }));
        Assert.That(entry.Description, Is.EqualTo("1 of 1 circuits not closed: payments (open)"));
    }

    [Test]
    public async Task CheckHealth_ClientsAndCircuitFilter_BothApply()
    {
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(o =>
        {
            o.Clients.Add("webhooks");
            o.CircuitFilter = circuit => circuit.PartitionKey is not null;
        }));
        await fixture.OpenAsync("webhooks", "http://bad.test/hook");
        await fixture.OpenAsync("github", GitHubUrl);

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Data.Keys, Is.EquivalentTo(new[] { "webhooks/http://bad.test:80" }));
        Assert.That(entry.Description, Is.EqualTo("1 of 1 circuits not closed: webhooks/http://bad.test:80 (open)"));
    }

    [Test]
    public async Task CheckHealth_OpenPartition_ListsOnlyThatPartition()
    {
        using var fixture = BreakerFixture.Create();
        await fixture.SendAsync("webhooks", "http://good.test/hook");
        await fixture.OpenAsync("webhooks", "http://bad.test/hook");

        HealthReportEntry entry = await fixture.CheckAsync();

        // The client's own circuit and the partition of good.test stay closed.
        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(entry.Description, Is.EqualTo("1 of 3 circuits not closed: webhooks/http://bad.test:80 (open)"));
        var circuit = (CircuitHealthEntry)entry.Data["webhooks/http://bad.test:80"];
        Assert.That(circuit.ClientName, Is.EqualTo("webhooks"));
        Assert.That(circuit.PartitionKey, Is.EqualTo("http://bad.test:80"));
        Assert.That(circuit.ConsecutiveFailures, Is.EqualTo(BreakerFixture.FailureThreshold));
    }

    [Test]
    public async Task CheckHealth_IsolatedPartition_ReportsIsolated()
    {
        using var fixture = BreakerFixture.Create();
        fixture.Registry.Isolate("webhooks", "http://bad.test:80");

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Degraded));
        var circuit = (CircuitHealthEntry)entry.Data["webhooks/http://bad.test:80"];
        Assert.That(circuit.State, Is.EqualTo("isolated"));
        Assert.That(circuit.PartitionKey, Is.EqualTo("http://bad.test:80"));
    }

    [Test]
    public async Task CheckHealth_ManyOpen_DescriptionCountsRest()
    {
        using var fixture = BreakerFixture.Create();
        for (int host = 0; host < 12; host++)
        {
            await fixture.OpenAsync("webhooks", $"http://host{host:D2}.test/hook");
        }

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Data, Has.Count.EqualTo(12));
        Assert.That(entry.Description, Does.StartWith("12 of 13 circuits not closed: webhooks/http://host00.test:80 (open), "));
        Assert.That(entry.Description, Does.EndWith("webhooks/http://host09.test:80 (open) and 2 more"));
    }

    [Test]
    public async Task CheckHealth_NoBreaker_ReportsFailureStatus()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHealthChecks().AddCircuitBreakerHealthCheck(failureStatus: HealthStatus.Unhealthy);
        await using ServiceProvider provider = services.BuildServiceProvider();

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        HealthReportEntry entry = report.Entries[CircuitBreakerHealthCheckOptions.DefaultName];
        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(entry.Exception, Is.TypeOf<InvalidOperationException>());
        Assert.That(entry.Exception!.Message, Does.Contain("AddCircuitBreaker"));
    }
}
