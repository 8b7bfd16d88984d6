using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// Validates the Redis fleet options of every client. Each failure names the client, the option, the value and
/// what to set instead.
/// </summary>
internal sealed class RedisFleetOptionsValidator(IServiceProviderIsService? serviceCheck = null) : IValidateOptions<RedisFleetOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisFleetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        string client = name ?? Options.DefaultName;
        var failures = new List<string>();

        // The configuration string may contain a password, so messages describe it instead of quoting it.
        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            if (serviceCheck?.IsService(typeof(IConnectionMultiplexer)) != true)
            {
                failures.Add(Describe(client, nameof(options.Configuration), "missing",
                    "a StackExchange.Redis configuration string such as \"127.0.0.1:6379\", unless an IConnectionMultiplexer is registered in the service collection"));
            }
        }
        else if (!TryParse(options.Configuration, out ConfigurationOptions? parsed, out string? parseError))
        {
            failures.Add(Describe(client, nameof(options.Configuration), $"a string that does not parse ({parseError})",
                "a StackExchange.Redis configuration string such as \"127.0.0.1:6379,password=...\""));
        }
        else if (parsed!.EndPoints.Count == 0)
        {
            // Such a string parses, but every connection attempt then fails without naming the cause.
            failures.Add(Describe(client, nameof(options.Configuration), "a string without an endpoint",
                "a StackExchange.Redis configuration string that starts with at least one host:port endpoint, such as \"127.0.0.1:6379,password=...\""));
        }

        if (string.IsNullOrEmpty(options.KeyPrefix) || options.KeyPrefix.Length > RedisFleetDefaults.MaxKeyPrefixLength || options.KeyPrefix.Any(char.IsWhiteSpace))
        {
            failures.Add(Describe(client, nameof(options.KeyPrefix), Quote(options.KeyPrefix), "1 to 100 characters without whitespace, such as \"httpbreaker\""));
        }

        if (options.Quorum < 1 || options.Quorum > RedisFleetDefaults.MaxQuorum)
        {
            failures.Add(Describe(client, nameof(options.Quorum), options.Quorum.ToString(CultureInfo.InvariantCulture), "an integer from 1 to 1000"));
        }

        if (options.RefreshInterval < RedisFleetDefaults.MinRefreshInterval || options.RefreshInterval > RedisFleetDefaults.MaxRefreshInterval)
        {
            failures.Add(Describe(client, nameof(options.RefreshInterval), options.RefreshInterval.ToString("c", CultureInfo.InvariantCulture),
                "from 00:00:00.0500000 to 01:00:00"));
        }

        if (options.InstanceId is { } instanceId && (instanceId.Length == 0 || instanceId.Length > RedisFleetDefaults.MaxInstanceIdLength || string.IsNullOrWhiteSpace(instanceId)))
        {
            failures.Add(Describe(client, nameof(options.InstanceId), Quote(instanceId),
                "null for a generated name, or 1 to 200 characters that no other instance of the fleet uses"));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Describe(string client, string option, string value, string allowed) =>
        $"Redis fleet option {option} of client '{client}' is {value}, which is invalid: it must be {allowed}";

    private static string Quote(string? value) => value is null ? "null" : $"'{value}'";

    private static bool TryParse(string configuration, out ConfigurationOptions? parsed, out string? error)
    {
        try
        {
            parsed = ConfigurationOptions.Parse(configuration);
            error = null;
            return true;
        }
        catch (ArgumentException exception)
        {
            parsed = null;
            error = exception.Message;
            return false;
        }
    }
}
