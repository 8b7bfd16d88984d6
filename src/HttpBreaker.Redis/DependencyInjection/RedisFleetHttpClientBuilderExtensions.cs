using HttpBreaker.Internal;
using HttpBreaker.Redis;
using HttpBreaker.Redis.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Shares the circuit breaker of one named <see cref="System.Net.Http.HttpClient"/> between the instances of an
/// application through Redis.
/// </summary>
public static class RedisFleetHttpClientBuilderExtensions
{
    /// <summary>
    /// Shares the client's circuits through Redis: the circuit opens on every instance once <c>Quorum</c> instances
    /// tripped, one instance probes for all, and <c>Isolate</c> and <c>Reset</c> apply everywhere. Requests never wait
    /// for Redis, and while it is unreachable each instance keeps its local circuits.
    /// </summary>
    /// <param name="builder">The client builder, after <c>AddCircuitBreaker</c>.</param>
    /// <param name="configure">Sets the Redis options of this client, such as <see cref="RedisFleetOptions.Configuration"/>.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IHttpClientBuilder ShareThroughRedis(this IHttpClientBuilder builder, Action<RedisFleetOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);

        AddServices(builder);
        builder.Services.Configure(builder.Name, configure);
        return builder;
    }

    /// <summary>
    /// Shares the client's circuits through the <c>IConnectionMultiplexer</c> registered in the service collection,
    /// with the default <see cref="RedisFleetOptions"/>.
    /// </summary>
    /// <param name="builder">The client builder, after <c>AddCircuitBreaker</c>.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IHttpClientBuilder ShareThroughRedis(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        AddServices(builder);
        return builder;
    }

    private static void AddServices(IHttpClientBuilder builder)
    {
        IServiceCollection services = builder.Services;
        services.AddOptions();
        services.TryAddSingleton<RedisCircuitCoordination>();
        services.TryAddSingleton<ICircuitCoordination>(static provider => provider.GetRequiredService<RedisCircuitCoordination>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisFleetOptions>, RedisFleetOptionsValidator>());
        services.AddSingleton(new RedisFleetRegistration(builder.Name));

        // Hosts that validate on start report invalid options before the first request.
        services.AddOptions<RedisFleetOptions>(builder.Name).ValidateOnStart();
    }
}
