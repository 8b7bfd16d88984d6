using System.Diagnostics.Metrics;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// The instruments of the Redis fleet, on a meter named <c>HttpBreaker.Redis</c>.
/// </summary>
internal sealed class FleetMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _failures;

    public FleetMetrics(IMeterFactory? meterFactory)
    {
        // A meter from the factory is disposed with it; one created here has no other owner.
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(RedisFleetDefaults.MeterName) ?? new Meter(RedisFleetDefaults.MeterName);
        _failures = _meter.CreateCounter<long>(
            "httpbreaker.redis.coordination_failures",
            unit: "{failure}",
            description: "Redis operations of shared circuits that failed; the circuits kept deciding locally.");
    }

    public void AddFailure(string clientName, string operation) =>
        _failures.Add(1, new KeyValuePair<string, object?>("httpbreaker.client", clientName), new KeyValuePair<string, object?>("httpbreaker.operation", operation));

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
