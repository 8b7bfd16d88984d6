using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using RichardSzalay.MockHttp;

namespace HttpBreaker.Tests;

/// <summary>
/// The breaker beside a retry from Microsoft.Extensions.Http.Resilience, in the two orders the README describes.
/// </summary>
public class ResilienceHandlerTests
{
    private const string Url = "http://upstream.test/";

    [Test]
    public async Task BreakerOutsideRetry_CountsOneFailurePerCallAndRejectsWithoutRetrying()
    {
        using var upstream = new MockHttpMessageHandler();
        MockedRequest calls = upstream.When("*").Respond(HttpStatusCode.InternalServerError);
        int retries = 0;

        var services = new ServiceCollection();
        services.AddHttpClient("github")
            .ConfigurePrimaryHttpMessageHandler(() => upstream)
            .AddCircuitBreaker(o => o.FailureThreshold = 2)
            .AddResilienceHandler("retry", pipeline => pipeline.AddRetry(ImmediateRetry(() => retries++)));
        using ServiceProvider provider = services.BuildServiceProvider();
        using HttpClient client = CreateClient(provider);

        (await client.GetAsync(Url)).Dispose();
        Assert.That(upstream.GetMatchCount(calls), Is.EqualTo(3), "one call and two retries");
        Assert.That(State(provider), Is.EqualTo(CircuitState.Closed), "the three attempts count as one failure");

        (await client.GetAsync(Url)).Dispose();
        using HttpResponseMessage rejected = await client.GetAsync(Url);

        Assert.That(CircuitBreakerHandler.IsRejection(rejected), Is.True);
        Assert.That(upstream.GetMatchCount(calls), Is.EqualTo(6));
        Assert.That(retries, Is.EqualTo(4), "the rejection was never retried");
    }

    [Test]
    public async Task BreakerInsideRetry_PredicateSkipsRejections()
    {
        using var upstream = new MockHttpMessageHandler();
        MockedRequest calls = upstream.When("*").Respond(HttpStatusCode.InternalServerError);
        int retries = 0;
        HttpRetryStrategyOptions retry = ImmediateRetry(() => retries++);
        retry.ShouldHandle = args => ValueTask.FromResult(
            !(args.Outcome.Result is { } response && CircuitBreakerHandler.IsRejection(response))
            && HttpClientResiliencePredicates.IsTransient(args.Outcome));

        var services = new ServiceCollection();
        IHttpClientBuilder github = services.AddHttpClient("github").ConfigurePrimaryHttpMessageHandler(() => upstream);
        github.AddResilienceHandler("retry", pipeline => pipeline.AddRetry(retry));
        github.AddCircuitBreaker(o => o.FailureThreshold = 2);
        using ServiceProvider provider = services.BuildServiceProvider();
        using HttpClient client = CreateClient(provider);

        using HttpResponseMessage response = await client.GetAsync(Url);

        Assert.That(CircuitBreakerHandler.IsRejection(response), Is.True, "the third attempt met the open circuit");
        Assert.That(upstream.GetMatchCount(calls), Is.EqualTo(2), "each attempt counted, so two opened the circuit");
        Assert.That(retries, Is.EqualTo(2), "the retry stopped at the rejection instead of waiting for its Retry-After");
    }

    [Test]
    public void ReadmeRetryFirstSnippet_BuildsBreakerInsideStandardHandler()
    {
        var services = new ServiceCollection();
        IHttpClientBuilder github = services.AddHttpClient("github");
        github.AddStandardResilienceHandler(o => o.Retry.ShouldHandle = args => ValueTask.FromResult(
            !(args.Outcome.Result is { } response && CircuitBreakerHandler.IsRejection(response))
            && HttpClientResiliencePredicates.IsTransient(args.Outcome)));
        github.AddCircuitBreaker();
        using ServiceProvider provider = services.BuildServiceProvider();

        HttpMessageHandler handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("github");
        var chain = new List<string>();
        while (handler is DelegatingHandler delegating)
        {
            chain.Add(delegating.GetType().Name);
            handler = delegating.InnerHandler!;
        }

        int breaker = chain.IndexOf(nameof(CircuitBreakerHandler));
        int resilience = chain.FindIndex(name => name.Contains("Resilience", StringComparison.Ordinal));
        Assert.That(breaker, Is.GreaterThanOrEqualTo(0));
        Assert.That(resilience, Is.GreaterThanOrEqualTo(0));
        Assert.That(breaker, Is.GreaterThan(resilience), "the breaker runs inside the standard handler");
    }

    private static HttpRetryStrategyOptions ImmediateRetry(Action onRetry) => new()
    {
        MaxRetryAttempts = 2,
        Delay = TimeSpan.Zero,
        BackoffType = DelayBackoffType.Constant,
        UseJitter = false,
        OnRetry = _ =>
        {
            onRetry();
            return default;
        },
    };

    /// <summary>
    /// Creates the client with a short timeout: a retry that waited for the rejection's <c>Retry-After</c> would
    /// otherwise hold the test for the whole break.
    /// </summary>
    private static HttpClient CreateClient(ServiceProvider provider)
    {
        HttpClient client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("github");
        client.Timeout = TimeSpan.FromSeconds(10);
        return client;
    }

    private static CircuitState State(ServiceProvider provider) =>
        provider.GetRequiredService<ICircuitBreakerRegistry>().TryGetCircuit("github", out CircuitSnapshot? snapshot)
            ? snapshot.State
            : throw new InvalidOperationException("The client has no circuit yet.");
}
