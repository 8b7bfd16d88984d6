using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Tests;

/// <summary>
/// Validation of the trip and recovery options: every invalid value is rejected with the client, the option,
/// the value and the allowed range in the message.
/// </summary>
public class PolicyOptionsValidationTests
{
    private static readonly TestCaseData[] InvalidOptions =
    [
        Case("FailureRatio", o => o.FailureRatio = 0, "0", "more than 0 and at most 1"),
        Case("FailureRatio", o => o.FailureRatio = 1.5, "1.5", "more than 0 and at most 1"),
        Case("FailureRatio", o => o.FailureRatio = double.NaN, "NaN", "more than 0 and at most 1"),
        Case("FailureThreshold", o => o.FailureThreshold = 0, "0", "only when FailureRatio is set"),
        Case("FailureThreshold", o => { o.FailureRatio = 0.5; o.FailureThreshold = -1; }, "-1", "from 0 (off)"),
        Case("SamplingDuration", o => o.SamplingDuration = TimeSpan.FromMilliseconds(5), "00:00:00.0050000", "from 00:00:00.0100000 to 1.00:00:00"),
        Case("MinimumThroughput", o => o.MinimumThroughput = 1, "1", "from 2 to 2147483647"),
        Case("SlowCallDuration", o => o.SlowCallDuration = TimeSpan.Zero, "00:00:00", "from 00:00:00.0010000 to 1.00:00:00"),
        Case("Timeout", o => o.Timeout = TimeSpan.FromDays(2), "2.00:00:00", "from 00:00:00.0010000 to 1.00:00:00"),
        Case("FailureStatusCodes", o => o.FailureStatusCodes = "500-599,abc", "'500-599,abc'", "'abc' is not a status code"),
        Case("FailureStatusCodes", o => o.FailureStatusCodes = "599-500", "'599-500'", "within 100-599"),
        Case("FailureStatusCodes", o => o.FailureStatusCodes = "700", "'700'", "within 100-599"),
        Case("FailureStatusCodes", o => o.FailureStatusCodes = "500-599,abc,700", "'500-599,abc,700'", "'abc', '700' are not status codes"),
        Case("FailureStatusCodes", o => o.FailureStatusCodes = " ", "' '", "the list is empty"),
        Case("MaxBreakDuration", o => o.MaxBreakDuration = TimeSpan.FromSeconds(10), "00:00:10", "at least BreakDuration (00:00:30)"),
        Case("BreakDurationMultiplier", o => o.BreakDurationMultiplier = 0.5, "0.5", "from 1 to 100"),
        Case("BreakDurationJitter", o => o.BreakDurationJitter = 1.5, "1.5", "from 0 to 1"),
        Case("PermittedProbes", o => o.PermittedProbes = 0, "0", "from 1 to 1000"),
        Case("ProbeSuccessThreshold", o => o.ProbeSuccessThreshold = 0, "0", "from 1 to 1000"),
        Case("ProbeTimeout", o => o.ProbeTimeout = TimeSpan.Zero, "00:00:00", "from 00:00:00.0010000 to 1.00:00:00"),
    ];

    [TestCaseSource(nameof(InvalidOptions))]
    public void CreateClient_InvalidOption_NamesOptionValueAndRange(Action<CircuitBreakerOptions> configure, string option, string value, string allowed)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(configure);
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("github"));

        Assert.That(exception!.Message, Does.Contain($"option {option} of client 'github' is {value}"));
        Assert.That(exception.Message, Does.Contain(allowed));
    }

    [Test]
    public void CreateClient_RatioOnly_IsValid()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(o =>
        {
            o.FailureThreshold = 0;
            o.FailureRatio = 1;
            o.MaxBreakDuration = TimeSpan.FromDays(1);
            o.ProbeSuccessThreshold = 1000;
            o.BreakDurationJitter = 1;
            o.BreakDurationMultiplier = 100;
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("github");

        Assert.That(provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit("github", out _), Is.True);
    }

    [Test]
    public void ConfigurationKey_Misspelled_Rejected()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Breaker:FailureTreshold"] = "2" })
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(configuration.GetSection("Breaker"));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("github"));

        Assert.That(exception!.Message, Does.Contain("FailureTreshold"));
        Assert.That(exception.Message, Does.Contain("Check the key names"));
    }

    [Test]
    public void CreateClient_SeveralInvalid_MessagesJoinCleanly()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(o =>
        {
            o.PermittedProbes = 0;
            o.BreakDurationJitter = 2;
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("github"));

        Assert.That(exception!.Failures.Count(), Is.EqualTo(2));
        Assert.That(exception.Message, Does.Not.Contain(".;"));
    }

    [Test]
    public void ConfigurationValue_Unconvertible_NamesClientAndFormat()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Breakers:github:FailureRatio"] = "half" })
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(configuration.GetSection("Breakers:github"));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("github"));

        Assert.That(exception!.Message, Does.Contain("client 'github'"));
        Assert.That(exception.Message, Does.Contain("'Breakers:github'"));
        Assert.That(exception.Message, Does.Contain("'half'"));
        Assert.That(exception.Message, Does.Contain("ratios with a dot such as 0.5"));
    }

    private static TestCaseData Case(string option, Action<CircuitBreakerOptions> configure, string value, string allowed) =>
        new TestCaseData(configure, option, value, allowed).SetName($"CreateClient_Invalid{option}_{value.Trim('\'')}");
}
