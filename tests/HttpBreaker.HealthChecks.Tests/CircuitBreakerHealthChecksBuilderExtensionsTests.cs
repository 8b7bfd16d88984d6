using System.Text.Json;
using HttpBreaker.HealthChecks.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace HttpBreaker.HealthChecks.Tests;

public sealed class CircuitBreakerHealthChecksBuilderExtensionsTests
{
    [Test]
    public void AddCheck_Defaults_RegistersNameAndDegraded()
    {
        HealthCheckRegistration registration = Register(checks => checks.AddCircuitBreakerHealthCheck());

        Assert.That(registration.Name, Is.EqualTo("circuit-breakers"));
        Assert.That(registration.FailureStatus, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(registration.Tags, Is.Empty);
    }

    [Test]
    public void AddCheck_Arguments_RegisterNameStatusAndTags()
    {
        HealthCheckRegistration registration = Register(checks =>
            checks.AddCircuitBreakerHealthCheck("upstreams", HealthStatus.Unhealthy, ["ready", "breakers"]));

        Assert.That(registration.Name, Is.EqualTo("upstreams"));
        Assert.That(registration.FailureStatus, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(registration.Tags, Is.EquivalentTo(new[] { "ready", "breakers" }));
    }

    [Test]
    public void AddCheck_Options_RegisterNameStatusAndTags()
    {
        HealthCheckRegistration registration = Register(checks => checks.AddCircuitBreakerHealthCheck(o =>
        {
            o.Name = "payments-breaker";
            o.FailureStatus = HealthStatus.Unhealthy;
            o.Tags.Add("ready");
        }));

        Assert.That(registration.Name, Is.EqualTo("payments-breaker"));
        Assert.That(registration.FailureStatus, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(registration.Tags, Is.EquivalentTo(new[] { "ready" }));
    }

    [Test]
    public async Task AddCheck_LaterOptionChange_IsIgnored()
    {
        var configuredOptions = new CircuitBreakerHealthCheckOptions();
        using var fixture = BreakerFixture.Create(checks => checks.AddCircuitBreakerHealthCheck(o =>
        {
            o.Clients.Add("payments");
            configuredOptions = o;
        }));
        configuredOptions.Clients.Clear();
        await fixture.OpenAsync("github", "http://github.test/repos");

        HealthReportEntry entry = await fixture.CheckAsync();

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
    }

    [TestCase("")]
    [TestCase("  ")]
    public void AddCheck_BlankName_ThrowsNamingOption(string name)
    {
        var services = new ServiceCollection();

        ArgumentException exception = Assert.Throws<ArgumentException>(() => services.AddHealthChecks().AddCircuitBreakerHealthCheck(name))!;

        Assert.That(exception.ParamName, Is.EqualTo("name"));
        Assert.That(exception.Message, Does.Contain("CircuitBreakerHealthCheckOptions.Name is"));
        Assert.That(exception.Message, Does.Contain("Set a name such as 'circuit-breakers'"));
    }

    [Test]
    public void AddCheck_HealthyFailureStatus_ThrowsWithFix()
    {
        var services = new ServiceCollection();

        ArgumentException exception = Assert.Throws<ArgumentException>(() =>
            services.AddHealthChecks().AddCircuitBreakerHealthCheck(failureStatus: HealthStatus.Healthy))!;

        Assert.That(exception.ParamName, Is.EqualTo("failureStatus"));
        Assert.That(exception.Message, Does.Contain("FailureStatus is Healthy"));
        Assert.That(exception.Message, Does.Contain("Set Degraded or Unhealthy"));
    }

    [Test]
    public void AddCheck_UndefinedStatuses_ThrowNamingBoth()
    {
        var services = new ServiceCollection();

        ArgumentException exception = Assert.Throws<ArgumentException>(() => services.AddHealthChecks().AddCircuitBreakerHealthCheck(o =>
        {
            o.FailureStatus = (HealthStatus)7;
            o.IsolatedStatus = (HealthStatus)(-1);
        }))!;

        Assert.That(exception.ParamName, Is.EqualTo("configure"));
        Assert.That(exception.Message, Does.Contain("FailureStatus is 7, which is not a HealthStatus"));
        Assert.That(exception.Message, Does.Contain("IsolatedStatus is -1, which is not a HealthStatus. Set Healthy, Degraded or Unhealthy"));
    }

    [Test]
    public void AddCheck_BlankEntries_ThrowWithPosition()
    {
        var services = new ServiceCollection();

        ArgumentException exception = Assert.Throws<ArgumentException>(() => services.AddHealthChecks().AddCircuitBreakerHealthCheck(o =>
        {
            o.Tags.Add("ready");
            o.Tags.Add("");
            o.Clients.Add(null!);
        }))!;

        Assert.That(exception.ParamName, Is.EqualTo("configure"));
        Assert.That(exception.Message, Does.Contain("CircuitBreakerHealthCheckOptions.Tags[1] is empty"));
        Assert.That(exception.Message, Does.Contain("CircuitBreakerHealthCheckOptions.Clients[0] is null"));
        Assert.That(exception.Message, Does.Contain("the name that was given to AddHttpClient"));
    }

    [Test]
    public void AddCheck_BlankTagArgument_ThrowsNamingTags()
    {
        var services = new ServiceCollection();

        ArgumentException exception = Assert.Throws<ArgumentException>(() =>
            services.AddHealthChecks().AddCircuitBreakerHealthCheck(tags: ["ready", " "]))!;

        Assert.That(exception.ParamName, Is.EqualTo("tags"));
        Assert.That(exception.Message, Does.Contain("CircuitBreakerHealthCheckOptions.Tags[1] is ' ', which is only white space"));
    }

    [Test]
    public void AddCheck_InvalidOptions_RegistersNothing()
    {
        var services = new ServiceCollection();
        services.AddOptions();
        IHealthChecksBuilder checks = services.AddHealthChecks();

        Assert.Throws<ArgumentException>(() => checks.AddCircuitBreakerHealthCheck(o => o.Name = ""));

        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.That(provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations, Is.Empty);
    }

    [Test]
    public async Task CheckData_SerializesToPlainJson()
    {
        using var fixture = BreakerFixture.Create();
        await fixture.OpenAsync("webhooks", "http://bad.test/hook");
        HealthReportEntry entry = await fixture.CheckAsync();

        string json = JsonSerializer.Serialize(entry.Data, JsonSerializerOptions.Web);

        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement circuit = document.RootElement.GetProperty("webhooks/http://bad.test:80");
        Assert.That(circuit.GetProperty("name").GetString(), Is.EqualTo("webhooks/http://bad.test:80"));
        Assert.That(circuit.GetProperty("clientName").GetString(), Is.EqualTo("webhooks"));
        Assert.That(circuit.GetProperty("partitionKey").GetString(), Is.EqualTo("http://bad.test:80"));
        Assert.That(circuit.GetProperty("state").GetString(), Is.EqualTo("open"));
        Assert.That(circuit.GetProperty("openedAt").GetDateTimeOffset(), Is.EqualTo(fixture.Time.GetUtcNow()));
        Assert.That(circuit.GetProperty("nextProbeAt").GetDateTimeOffset(), Is.EqualTo(fixture.Time.GetUtcNow() + BreakerFixture.BreakDuration));
        Assert.That(circuit.GetProperty("consecutiveFailures").GetInt32(), Is.EqualTo(BreakerFixture.FailureThreshold));
    }

    private static HealthCheckRegistration Register(Action<IHealthChecksBuilder> addChecks)
    {
        var services = new ServiceCollection();
        addChecks(services.AddHealthChecks());
        using ServiceProvider provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single();
    }
}
