using System.Net;
using HttpBreaker.Internal;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

/// <summary>
/// The <c>HttpBreaker</c> section shape and configuration reload: new options reach running circuits without
/// resetting them, and invalid ones are logged and ignored.
/// </summary>
public class ConfigurationReloadTests
{
    private const string Url = "http://upstream.test/";

    [Test]
    public void Section_DefaultsAndClient_ClientWinsAndInheritsTheRest()
    {
        using var app = ConfiguredApp.Create(new()
        {
            ["HttpBreaker:Defaults:BreakDuration"] = "00:00:45",
            ["HttpBreaker:Defaults:FailureThreshold"] = "7",
            ["HttpBreaker:Clients:github:FailureThreshold"] = "3",
            ["HttpBreaker:Clients:github:FailureStatusCodes"] = "500-599,429",
        });

        CircuitPolicy policy = app.Client.Policy;

        Assert.That(policy.FailureThreshold, Is.EqualTo(3));
        Assert.That(policy.BreakDuration, Is.EqualTo(TimeSpan.FromSeconds(45)));
        Assert.That(policy.FailureStatusCodes.Contains(429), Is.True);
    }

    [Test]
    public void Section_KeyBesideDefaultsAndClients_FailsNamingIt()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:FailureThreshold"] = "3" }, createClient: false);

        OptionsValidationException? exception = Assert.Throws<OptionsValidationException>(() => app.CreateHttpClient());

        Assert.That(exception!.Message, Does.Contain("'HttpBreaker' has the key 'FailureThreshold'"));
        Assert.That(exception.Message, Does.Contain("HttpBreaker:Defaults"));
    }

    [Test]
    public void Section_SettingsForClientWithoutBreaker_Warned()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:githbu:FailureThreshold"] = "3" });

        LogEntry warning = app.Logs.Entries.Single(e => e.EventId == 19);
        Assert.That(warning.Message, Does.Contain("client 'githbu', which has no circuit breaker"));
        Assert.That(warning.Message, Does.Contain("'github'"));
    }

    [Test]
    public async Task Reload_LowerThreshold_KeepsFailureCountAndOpensSooner()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "5" });
        await app.SendAsync(HttpStatusCode.InternalServerError, 2);

        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "3"));
        Assert.That(app.Snapshot.ConsecutiveFailures, Is.EqualTo(2), "the reload kept the count");
        await app.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Open));
        Assert.That(app.Logs.Entries.Single(e => e.EventId == 15).Message, Does.Contain("client 'github' reloaded"));
    }

    [Test]
    public async Task Reload_WhileOpen_KeepsBreakAndAppliesNewDurationToNextBreak()
    {
        using var app = ConfiguredApp.Create(new()
        {
            ["HttpBreaker:Clients:github:FailureThreshold"] = "1",
            ["HttpBreaker:Clients:github:BreakDuration"] = "00:00:30",
        });
        await app.SendAsync(HttpStatusCode.InternalServerError, 1);
        DateTimeOffset? probeAt = app.Snapshot.NextProbeAt;

        app.Reload(("HttpBreaker:Clients:github:BreakDuration", "00:02:00"));

        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Open));
        Assert.That(app.Snapshot.NextProbeAt, Is.EqualTo(probeAt), "the running break keeps its end");

        app.Time.Advance(TimeSpan.FromSeconds(30));
        await app.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Open));
        Assert.That(app.Snapshot.NextProbeAt, Is.EqualTo(app.Time.GetUtcNow() + TimeSpan.FromMinutes(2)), "the reopened break uses the new duration");
    }

    [Test]
    public async Task Reload_Invalid_RejectedLoggedAndPreviousOptionsStay()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "2" });

        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "-4"));

        LogEntry rejected = app.Logs.Entries.Single(e => e.EventId == 16);
        Assert.That(rejected.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(rejected.Message, Does.Contain("client 'github'"));
        Assert.That(rejected.Message, Does.Contain("FailureThreshold"));
        Assert.That(rejected.Message, Does.Contain("-4"));
        Assert.That(app.Client.Policy.FailureThreshold, Is.EqualTo(2));

        await app.SendAsync(HttpStatusCode.InternalServerError, 2);
        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Open), "the previous threshold of 2 still applies");
    }

    [Test]
    public void Reload_UnconvertibleOrUnknownKey_RejectedAndLogged()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "2" });

        app.Reload(("HttpBreaker:Clients:github:BreakDuration", "thirty seconds"));
        app.Reload(("HttpBreaker:Clients:github:BreakDuration", "00:00:10"), ("HttpBreaker:Clients:github:FailureTreshold", "4"));

        string[] rejections = app.Logs.Entries.Where(e => e.EventId == 16).Select(e => e.Message).ToArray();
        Assert.That(rejections, Has.Length.EqualTo(2));
        Assert.That(rejections[0], Does.Contain("thirty seconds"));
        Assert.That(rejections[1], Does.Contain("FailureTreshold"));
        Assert.That(app.Client.Policy.BreakDuration, Is.EqualTo(TimeSpan.FromSeconds(30)), "neither reload was applied");
    }

    [Test]
    public void Reload_InvalidThenValid_AppliesTheValidOne()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "2" });

        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "0"));
        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "9"));

        Assert.That(app.Client.Policy.FailureThreshold, Is.EqualTo(9));
    }

    [Test]
    public void Reload_MisspelledClientAdded_Warned()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "2" });
        Assert.That(app.Logs.Entries.Where(e => e.EventId == 19), Is.Empty);

        app.Reload(("HttpBreaker:Clients:githbu:FailureThreshold", "3"));

        Assert.That(app.Logs.Entries.Single(e => e.EventId == 19).Message, Does.Contain("client 'githbu', which has no circuit breaker"));
    }

    [Test]
    public void Reload_InvalidThenReverted_LogsValidAgain()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "2" });

        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "-2"));
        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "2"));
        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "2"));

        Assert.That(app.Logs.Entries.Select(e => e.EventId).Where(id => id is 15 or 16 or 20), Is.EqualTo(new[] { 16, 20 }),
            "the fix is logged once, and an unchanged reload after it logs nothing");
    }

    [Test]
    public void Reload_NothingChanged_LeavesCircuitsAlone()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "2" });
        CircuitPolicy before = app.Client.Policy;

        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "2"));

        Assert.That(app.Client.Policy, Is.SameAs(before));
        Assert.That(app.Logs.Entries.Where(e => e.EventId == 15), Is.Empty);
    }

    [Test]
    public async Task Reload_RatioWindowResized_KeepsRecentCounts()
    {
        using var app = ConfiguredApp.Create(new()
        {
            ["HttpBreaker:Clients:github:FailureThreshold"] = "0",
            ["HttpBreaker:Clients:github:FailureRatio"] = "0.5",
            ["HttpBreaker:Clients:github:MinimumThroughput"] = "10",
            ["HttpBreaker:Clients:github:SamplingDuration"] = "00:00:10",
        });
        await app.SendAsync(HttpStatusCode.OK, 4);
        await app.SendAsync(HttpStatusCode.InternalServerError, 5);

        app.Reload(("HttpBreaker:Clients:github:SamplingDuration", "00:01:00"));
        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Closed));
        await app.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Open), "6 failures in 10 counts the 9 outcomes from before the reload");
    }

    [Test]
    public async Task Reload_RatioRuleTurnedOn_AppliesToClosedCircuit()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "100" });
        await app.SendAsync(HttpStatusCode.OK, 1);

        app.Reload(("HttpBreaker:Clients:github:FailureRatio", "0.5"), ("HttpBreaker:Clients:github:MinimumThroughput", "4"));
        await app.SendAsync(HttpStatusCode.OK, 2);
        await app.SendAsync(HttpStatusCode.InternalServerError, 2);

        Assert.That(app.Snapshot.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public async Task Reload_PartitionByChanged_KeptAndWarnedOtherOptionsApplied()
    {
        using var app = ConfiguredApp.Create(new()
        {
            ["HttpBreaker:Clients:github:PartitionBy"] = "Authority",
            ["HttpBreaker:Clients:github:FailureThreshold"] = "5",
        });
        await app.SendAsync(HttpStatusCode.OK, 1);

        app.Reload(("HttpBreaker:Clients:github:PartitionBy", "Client"), ("HttpBreaker:Clients:github:FailureThreshold", "1"));

        Assert.That(app.Logs.Entries.Single(e => e.EventId == 18).Message, Does.Contain("keeps PartitionBy Authority"));
        Assert.That(app.Client.Policy.PartitionBy, Is.EqualTo(PartitionBy.Authority));
        await app.SendAsync(HttpStatusCode.InternalServerError, 1);
        Assert.That(app.Registry.TryGetCircuit("github", "http://upstream.test:80", out CircuitSnapshot? partition), Is.True);
        Assert.That(partition!.State, Is.EqualTo(CircuitState.Open), "the partition took the new threshold of 1");
    }

    [Test]
    public async Task Reload_PartitionCreatedAfterwards_StartsWithNewOptions()
    {
        using var app = ConfiguredApp.Create(new()
        {
            ["HttpBreaker:Clients:github:PartitionBy"] = "Authority",
            ["HttpBreaker:Clients:github:FailureThreshold"] = "5",
        });

        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "1"));
        await app.SendAsync(HttpStatusCode.InternalServerError, 1, "http://other.test/");

        Assert.That(app.Registry.TryGetCircuit("github", "http://other.test:80", out CircuitSnapshot? partition), Is.True);
        Assert.That(partition!.State, Is.EqualTo(CircuitState.Open));
    }

    [Test]
    public void Reload_ClientNotCreatedYet_ReadsNewOptionsWhenCreated()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "5" }, createClient: false);
        app.Provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>().Get("github");

        app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "2"));
        app.CreateHttpClient().Dispose();

        Assert.That(app.Client.Policy.FailureThreshold, Is.EqualTo(2), "options cached before the reload are not used");
    }

    [Test]
    public void Reload_ConfigureActionThrows_LoggedAndPreviousOptionsStay()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Breaker:FailureThreshold"] = "5" }).Build();
        var logs = new RecordingLoggerProvider();
        bool fail = false;
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs));
        services.AddHttpClient("github").AddCircuitBreaker(configuration.GetSection("Breaker"));
        services.Configure<CircuitBreakerOptions>("github", _ =>
        {
            if (fail)
            {
                throw new InvalidOperationException("A configure action of the application failed.");
            }
        });
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IHttpClientFactory>().CreateClient("github").Dispose();

        fail = true;
        configuration["Breaker:FailureThreshold"] = "8";
        Assert.DoesNotThrow(configuration.Reload);

        Assert.That(logs.Entries.Single(e => e.EventId == 17).Level, Is.EqualTo(LogLevel.Error));
        Assert.That(provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient("github").Policy.FailureThreshold, Is.EqualTo(5));
    }

    [Test]
    public void Reload_PlainSectionOverload_AlsoReloads()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Breaker:FailureThreshold"] = "5" }).Build();
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker(configuration.GetSection("Breaker"));
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IHttpClientFactory>().CreateClient("github").Dispose();

        configuration["Breaker:FailureThreshold"] = "8";
        configuration.Reload();

        Assert.That(provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient("github").Policy.FailureThreshold, Is.EqualTo(8));
    }

    [Test]
    public void Reload_InvalidWithOptionsMonitorInUse_DoesNotThrowFromProvider()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "2" });
        app.Provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>().Get("github");

        Assert.DoesNotThrow(() => app.Reload(("HttpBreaker:Clients:github:FailureThreshold", "-1")));
        Assert.That(app.Logs.Entries.Count(e => e.EventId == 16), Is.EqualTo(1));
    }

    [Test]
    public async Task Reload_RacingRequests_LosesNoRequestAndEndsOnLastOptions()
    {
        using var app = ConfiguredApp.Create(new() { ["HttpBreaker:Clients:github:FailureThreshold"] = "1000" });
        using HttpClient client = app.CreateHttpClient();
        app.Status = HttpStatusCode.InternalServerError;
        int responses = 0;

        Task[] senders = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                using HttpResponseMessage response = await client.GetAsync(Url);
                Interlocked.Increment(ref responses);
            }
        })).ToArray();
        Task reloader = Task.Run(() =>
        {
            for (int threshold = 900; threshold < 1000; threshold++)
            {
                app.Reload(("HttpBreaker:Clients:github:FailureThreshold", threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        });
        await Task.WhenAll([.. senders, reloader]);

        Assert.That(responses, Is.EqualTo(800));
        Assert.That(app.Client.Policy.FailureThreshold, Is.EqualTo(999));
        Assert.That(app.Snapshot.ConsecutiveFailures, Is.EqualTo(800), "no reload reset the count");
    }

    /// <summary>An application whose one client, <c>github</c>, reads its breaker options from an in-memory configuration.</summary>
    private sealed class ConfiguredApp : IDisposable
    {
        private readonly IConfigurationRoot _configuration;
        private readonly MockHttpMessageHandler _mock = new();

        private ConfiguredApp(Dictionary<string, string?> settings, bool createClient)
        {
            _configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            _mock.When("*").Respond(_ => new HttpResponseMessage(Status));

            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(Time);
            services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
            services.AddHttpClient("github").ConfigurePrimaryHttpMessageHandler(() => _mock).AddCircuitBreaker();
            services.ConfigureCircuitBreakers(_configuration.GetSection("HttpBreaker"));
            Provider = services.BuildServiceProvider();

            if (createClient)
            {
                CreateHttpClient().Dispose();
            }
        }

        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

        public RecordingLoggerProvider Logs { get; } = new();

        public ServiceProvider Provider { get; }

        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

        public ICircuitBreakerRegistry Registry => Provider.GetRequiredService<ICircuitBreakerRegistry>();

        public ClientCircuits Client => Provider.GetRequiredService<CircuitBreakerRegistry>().GetOrCreateClient("github");

        public CircuitSnapshot Snapshot => Registry.TryGetCircuit("github", out CircuitSnapshot? snapshot) ? snapshot : throw new InvalidOperationException("No circuit yet.");

        public static ConfiguredApp Create(Dictionary<string, string?> settings, bool createClient = true) => new(settings, createClient);

        public HttpClient CreateHttpClient() => Provider.GetRequiredService<IHttpClientFactory>().CreateClient("github");

        public async Task SendAsync(HttpStatusCode status, int count, string url = Url)
        {
            Status = status;
            using HttpClient client = CreateHttpClient();
            for (int i = 0; i < count; i++)
            {
                using HttpResponseMessage response = await client.GetAsync(url);
            }
        }

        /// <summary>Changes settings and reloads the configuration, as a changed appsettings.json file does.</summary>
        public void Reload(params (string Key, string Value)[] changes)
        {
            foreach ((string key, string value) in changes)
            {
                _configuration[key] = value;
            }

            _configuration.Reload();
        }

        public void Dispose()
        {
            Provider.Dispose();
            _mock.Dispose();
        }
    }
}
