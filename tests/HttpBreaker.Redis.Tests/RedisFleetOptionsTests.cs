using HttpBreaker.Redis.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Redis.Tests;

/// <summary>
/// Validation of the Redis fleet options. None of these tests needs a Redis server.
/// </summary>
public class RedisFleetOptionsTests
{
    private const string ClientName = "catalog";

    [Test]
    public void Defaults_MatchTheDocumentedValues()
    {
        var options = new RedisFleetOptions();

        Assert.That(options.Configuration, Is.Null);
        Assert.That(options.KeyPrefix, Is.EqualTo("httpbreaker"));
        Assert.That(options.Quorum, Is.EqualTo(1));
        Assert.That(options.RefreshInterval, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(options.InstanceId, Is.Null);
    }

    [TestCase(0, "Quorum", "is 0", "an integer from 1 to 1000")]
    [TestCase(1001, "Quorum", "is 1001", "an integer from 1 to 1000")]
    public void Quorum_OutOfRange_IsRejected(int quorum, string option, string value, string allowed)
    {
        OptionsValidationException exception = CreateClientExpectingFailure(options => options.Quorum = quorum);

        Assert.That(exception.Message, Does.Contain($"option {option} of client '{ClientName}'"));
        Assert.That(exception.Message, Does.Contain(value));
        Assert.That(exception.Message, Does.Contain(allowed));
    }

    [Test]
    public void RefreshInterval_TooShort_IsRejected()
    {
        OptionsValidationException exception = CreateClientExpectingFailure(options => options.RefreshInterval = TimeSpan.FromMilliseconds(10));

        Assert.That(exception.Message, Does.Contain("RefreshInterval of client 'catalog' is 00:00:00.0100000"));
        Assert.That(exception.Message, Does.Contain("from 00:00:00.0500000 to 01:00:00"));
    }

    [TestCase(0)]
    [TestCase(-1000)]
    public void RefreshInterval_ZeroOrNegative_IsRejected(int milliseconds)
    {
        OptionsValidationException exception = CreateClientExpectingFailure(options => options.RefreshInterval = TimeSpan.FromMilliseconds(milliseconds));

        Assert.That(exception.Message, Does.Contain("RefreshInterval of client 'catalog'"));
        Assert.That(exception.Message, Does.Contain("from 00:00:00.0500000 to 01:00:00"));
    }

    [TestCase("password=secret")]
    [TestCase("abortConnect=false,password=secret")]
    public void Configuration_WithoutEndpoint_IsRejectedWithoutEchoingIt(string configuration)
    {
        OptionsValidationException exception = CreateClientExpectingFailure(options => options.Configuration = configuration);

        Assert.That(exception.Message, Does.Contain("Configuration of client 'catalog'"));
        Assert.That(exception.Message, Does.Contain("endpoint"));
        Assert.That(exception.Message, Does.Not.Contain("secret"), "a configuration string may hold a password");
    }

    [TestCase("")]
    [TestCase("has space")]
    public void KeyPrefix_Invalid_IsRejected(string prefix)
    {
        OptionsValidationException exception = CreateClientExpectingFailure(options => options.KeyPrefix = prefix);

        Assert.That(exception.Message, Does.Contain($"KeyPrefix of client 'catalog' is '{prefix}'"));
        Assert.That(exception.Message, Does.Contain("without whitespace"));
    }

    [Test]
    public void InstanceId_Empty_IsRejected()
    {
        OptionsValidationException exception = CreateClientExpectingFailure(options => options.InstanceId = "");

        Assert.That(exception.Message, Does.Contain("InstanceId of client 'catalog' is ''"));
    }

    [Test]
    public void Configuration_MissingWithoutMultiplexer_TellsBothFixes()
    {
        OptionsValidationException exception = CreateClientExpectingFailure(options => options.Configuration = null);

        Assert.That(exception.Message, Does.Contain("Configuration of client 'catalog' is missing"));
        Assert.That(exception.Message, Does.Contain("127.0.0.1:6379"));
        Assert.That(exception.Message, Does.Contain("IConnectionMultiplexer"));
    }

    [Test]
    public void Configuration_Unparsable_IsRejectedWithoutEchoingIt()
    {
        OptionsValidationException exception = CreateClientExpectingFailure(options => options.Configuration = "127.0.0.1:6379,password=secret,nosuchkey=1");

        Assert.That(exception.Message, Does.Contain("Configuration of client 'catalog' is a string that does not parse"));
        Assert.That(exception.Message, Does.Not.Contain("secret"), "a configuration string may hold a password");
    }

    [Test]
    public void InvalidQuorum_FailsOptionsRead()
    {
        using ServiceProvider provider = BuildProvider(options => options.Quorum = -1);

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<RedisFleetOptions>>().Get(ClientName));
    }

    [Test]
    public void Validator_ValidOptions_Succeeds()
    {
        var validator = new RedisFleetOptionsValidator();

        ValidateOptionsResult result = validator.Validate(ClientName, new RedisFleetOptions { Configuration = "127.0.0.1:6379", Quorum = 3 });

        Assert.That(result.Succeeded, Is.True, result.FailureMessage);
    }

    private static OptionsValidationException CreateClientExpectingFailure(Action<RedisFleetOptions> configure)
    {
        using ServiceProvider provider = BuildProvider(configure);

        // Creating the client creates its circuit, which reads and validates the Redis options of the client.
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName))!;
    }

    private static ServiceProvider BuildProvider(Action<RedisFleetOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddHttpClient(ClientName)
            .AddCircuitBreaker()
            .ShareThroughRedis(options =>
            {
                options.Configuration = "127.0.0.1:1";
                configure(options);
            });
        return services.BuildServiceProvider();
    }
}
