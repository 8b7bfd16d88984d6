using System.Net;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

public class RegistrationTests
{
    private const string Url = "http://upstream.test/";

    [Test]
    public async Task RotatedHandler_SeesSameCircuit()
    {
        using var mock = new MockHttpMessageHandler();
        mock.When("*").Respond(HttpStatusCode.InternalServerError);
        var services = new ServiceCollection();
        services.AddHttpClient("github").ConfigurePrimaryHttpMessageHandler(() => mock).AddCircuitBreaker(o => o.FailureThreshold = 2);
        using ServiceProvider provider = services.BuildServiceProvider();

        HttpMessageHandler firstChain = BuildHandlerChain(provider, "github");
        HttpMessageHandler secondChain = BuildHandlerChain(provider, "github");
        using var before = new HttpMessageInvoker(firstChain);
        using var after = new HttpMessageInvoker(secondChain);
        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage failed = await before.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url), CancellationToken.None);
        }

        using HttpResponseMessage response = await after.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url), CancellationToken.None);

        Assert.That(FindBreakers(secondChain).Single(), Is.Not.SameAs(FindBreakers(firstChain).Single()));
        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.True);
    }

    [Test]
    public async Task AllClients_EachGetOwnCircuit()
    {
        using var mock = new MockHttpMessageHandler();
        mock.When("*").Respond(HttpStatusCode.InternalServerError);
        var services = new ServiceCollection();
        services.AddHttpClient().AddCircuitBreaker(o => o.FailureThreshold = 1);
        services.ConfigureHttpClientDefaults(builder => builder.ConfigurePrimaryHttpMessageHandler(() => mock));
        using ServiceProvider provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var registry = provider.GetRequiredService<ICircuitBreakerRegistry>();

        using HttpClient a = factory.CreateClient("a");
        using HttpClient b = factory.CreateClient("b");
        using HttpResponseMessage failed = await a.GetAsync(Url);

        Assert.That(registry.TryGetCircuit("a", out CircuitSnapshot? circuitA), Is.True);
        Assert.That(registry.TryGetCircuit("b", out CircuitSnapshot? circuitB), Is.True);
        Assert.That(circuitA!.State, Is.EqualTo(CircuitState.Open));
        Assert.That(circuitB!.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public void AllClients_DefaultClientGetsCircuit()
    {
        var services = new ServiceCollection();
        services.AddHttpClient().AddCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();

        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient();

        Assert.That(provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit(Options.DefaultName, out _), Is.True);
    }

    [Test]
    public async Task ClientAndAllClients_OneBreakerCountsOnce()
    {
        using var mock = new MockHttpMessageHandler();
        mock.When("*").Respond(HttpStatusCode.InternalServerError);
        var services = new ServiceCollection();
        services.AddHttpClient().AddCircuitBreaker();
        services.AddHttpClient("github").ConfigurePrimaryHttpMessageHandler(() => mock).AddCircuitBreaker(o => o.FailureThreshold = 2);
        using ServiceProvider provider = services.BuildServiceProvider();

        HttpMessageHandler chain = BuildHandlerChain(provider, "github");
        using var invoker = new HttpMessageInvoker(chain);
        using HttpResponseMessage failed = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, Url), CancellationToken.None);

        Assert.That(FindBreakers(chain), Has.Count.EqualTo(1));
        Assert.That(Snapshot(provider, "github").ConsecutiveFailures, Is.EqualTo(1));
        Assert.That(Snapshot(provider, "github").State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public void AddCircuitBreakerTwice_OneBreaker()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("github").AddCircuitBreaker().AddCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();

        using HttpMessageHandler chain = BuildHandlerChain(provider, "github");

        Assert.That(FindBreakers(chain), Has.Count.EqualTo(1));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ClientOptions_WinOverAllClientOptions(bool clientFirst)
    {
        var services = new ServiceCollection();
        if (clientFirst)
        {
            services.AddHttpClient("github").AddCircuitBreaker(o => o.FailureThreshold = 2);
            services.AddHttpClient().AddCircuitBreaker(o => o.FailureThreshold = 10);
        }
        else
        {
            services.AddHttpClient().AddCircuitBreaker(o => o.FailureThreshold = 10);
            services.AddHttpClient("github").AddCircuitBreaker(o => o.FailureThreshold = 2);
        }

        using ServiceProvider provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>();

        Assert.That(options.Get("github").FailureThreshold, Is.EqualTo(2));
        Assert.That(options.Get("other").FailureThreshold, Is.EqualTo(10));
    }

    [Test]
    public void TwoNamedClients_NeverShareCircuit()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("a").AddCircuitBreaker();
        services.AddHttpClient("b").AddCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        using HttpClient a = factory.CreateClient("a");
        using HttpClient b = factory.CreateClient("b");

        provider.GetRequiredService<ICircuitBreakerRegistry>().Isolate("a");

        Assert.That(Snapshot(provider, "a").State, Is.EqualTo(CircuitState.Isolated));
        Assert.That(Snapshot(provider, "b").State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public void ClientWithoutBreaker_HasNoHandler()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("a").AddCircuitBreaker();
        services.AddHttpClient("plain");
        using ServiceProvider provider = services.BuildServiceProvider();

        using HttpMessageHandler chain = BuildHandlerChain(provider, "plain");

        Assert.That(FindBreakers(chain), Is.Empty);
        Assert.That(provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit("plain", out _), Is.False);
    }

    [Test]
    public async Task ConfigurationSection_BindsOptions()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Breaker:FailureThreshold"] = "2",
                ["Breaker:BreakDuration"] = "00:00:10",
            })
            .Build();
        using var mock = new MockHttpMessageHandler();
        mock.When("*").Respond(HttpStatusCode.InternalServerError);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddHttpClient("github").ConfigurePrimaryHttpMessageHandler(() => mock).AddCircuitBreaker(configuration.GetSection("Breaker"));
        using ServiceProvider provider = services.BuildServiceProvider();
        using HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("github");

        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage failed = await client.GetAsync(Url);
        }

        Assert.That(Snapshot(provider, "github").State, Is.EqualTo(CircuitState.Open));
        Assert.That(Snapshot(provider, "github").NextProbeAt, Is.EqualTo(time.GetUtcNow() + TimeSpan.FromSeconds(10)));
    }

    [Test]
    public void ConfigurationSection_AllClients_BindsOptions()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["FailureThreshold"] = "7" })
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient().AddCircuitBreaker(configuration);
        using ServiceProvider provider = services.BuildServiceProvider();

        CircuitBreakerOptions options = provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>().Get("any");

        Assert.That(options.FailureThreshold, Is.EqualTo(7));
        Assert.That(options.BreakDuration, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void Options_Defaults()
    {
        var options = new CircuitBreakerOptions();

        Assert.That(options.FailureThreshold, Is.EqualTo(5));
        Assert.That(options.BreakDuration, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void AddCircuitBreaker_NullArguments_Throw()
    {
        var services = new ServiceCollection();
        IHttpClientBuilder builder = services.AddHttpClient("github");

        Assert.Throws<ArgumentNullException>(() => builder.AddCircuitBreaker((Action<CircuitBreakerOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => builder.AddCircuitBreaker((IConfiguration)null!));
        Assert.Throws<ArgumentNullException>(() => ((IHttpClientBuilder)null!).AddCircuitBreaker());
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddCircuitBreaker());
    }

    /// <summary>
    /// Builds a handler chain the way <see cref="IHttpClientFactory"/> does each time a handler's lifetime ends,
    /// so a test can hold two generations at once without waiting for the factory's rotation timer.
    /// </summary>
    internal static HttpMessageHandler BuildHandlerChain(IServiceProvider provider, string clientName)
    {
        HttpClientFactoryOptions options = provider.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(clientName);
        HttpMessageHandlerBuilder builder = provider.GetRequiredService<HttpMessageHandlerBuilder>();
        builder.Name = clientName;
        foreach (Action<HttpMessageHandlerBuilder> action in options.HttpMessageHandlerBuilderActions)
        {
            action(builder);
        }

        return builder.Build();
    }

    private static List<CircuitBreakerHandler> FindBreakers(HttpMessageHandler chain)
    {
        HttpMessageHandler? handler = chain;
        var found = new List<CircuitBreakerHandler>();
        while (handler is DelegatingHandler delegating)
        {
            if (delegating is CircuitBreakerHandler breaker)
            {
                found.Add(breaker);
            }

            handler = delegating.InnerHandler;
        }

        return found;
    }

    private static CircuitSnapshot Snapshot(IServiceProvider provider, string name) =>
        provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit(name, out CircuitSnapshot? snapshot)
            ? snapshot
            : throw new AssertionException($"No circuit named '{name}'.");
}
