using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Tests;

public class OptionsValidationTests
{
    private static readonly object[] InvalidBreakDurations =
    [
        TimeSpan.Zero,
        TimeSpan.FromSeconds(-1),
        TimeSpan.FromDays(1) + TimeSpan.FromTicks(1),
    ];

    [TestCase(0)]
    [TestCase(-3)]
    public void CreateClient_InvalidFailureThreshold_ThrowsWithDetails(int threshold)
    {
        using ServiceProvider provider = BuildProvider(o => o.FailureThreshold = threshold);
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(() => factory.CreateClient("github"));

        Assert.That(exception!.Message, Does.Contain("'github'"));
        Assert.That(exception.Message, Does.Contain("FailureThreshold"));
        Assert.That(exception.Message, Does.Contain($" is {threshold},"));
        Assert.That(exception.Message, Does.Contain("from 1 to 2147483647"));
    }

    [TestCaseSource(nameof(InvalidBreakDurations))]
    public void CreateClient_InvalidBreakDuration_ThrowsWithDetails(TimeSpan breakDuration)
    {
        using ServiceProvider provider = BuildProvider(o => o.BreakDuration = breakDuration);
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(() => factory.CreateClient("github"));

        Assert.That(exception!.Message, Does.Contain("'github'"));
        Assert.That(exception.Message, Does.Contain("BreakDuration"));
        Assert.That(exception.Message, Does.Contain(breakDuration.ToString("c", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(exception.Message, Does.Contain("from 00:00:00.0010000 to 1.00:00:00"));
    }

    [Test]
    public void CreateClient_BreakDurationOfOneDay_IsValid()
    {
        using ServiceProvider provider = BuildProvider(o => o.BreakDuration = TimeSpan.FromDays(1));

        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("github");

        Assert.That(provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit("github", out _), Is.True);
    }

    [Test]
    public void CreateClient_InvalidOptions_CreatesNoCircuit()
    {
        using ServiceProvider provider = BuildProvider(o => o.FailureThreshold = 0);
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        Assert.Throws<OptionsValidationException>(() => factory.CreateClient("github"));

        Assert.That(provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit("github", out _), Is.False);
        Assert.Throws<OptionsValidationException>(() => factory.CreateClient("github"), "a second attempt fails the same way");
    }

    [Test]
    public void CreateClient_BothOptionsInvalid_ReportsBoth()
    {
        using ServiceProvider provider = BuildProvider(o =>
        {
            o.FailureThreshold = 0;
            o.BreakDuration = TimeSpan.Zero;
        });

        OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("github"));

        Assert.That(exception!.Failures.Count(), Is.EqualTo(2));
    }

    [Test]
    public void HostStart_InvalidOptions_Throws()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddHttpClient("github").AddCircuitBreaker(o => o.FailureThreshold = 0);
        using IHost host = builder.Build();

        OptionsValidationException? exception = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.That(exception!.Message, Does.Contain("'github'"));
    }

    [Test]
    public void HostStart_InvalidOptionsForAllClients_Throws()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddHttpClient().AddCircuitBreaker(o => o.BreakDuration = TimeSpan.FromDays(2));
        using IHost host = builder.Build();

        Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
    }

    [Test]
    public async Task HostStart_ValidOptions_Starts()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Services.AddHttpClient("github").AddCircuitBreaker(o => o.FailureThreshold = 3);
        using IHost host = builder.Build();

        await host.StartAsync();

        Assert.That(host.Services.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>().Get("github").FailureThreshold, Is.EqualTo(3));
        await host.StopAsync();
    }

    private static ServiceProvider BuildProvider(Action<CircuitBreakerOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(configure);
        return services.BuildServiceProvider();
    }
}
