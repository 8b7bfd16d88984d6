using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// The Lua scripts that read and change the shared state of a circuit. Each change is one script, so Redis runs it
/// atomically and no update is lost between instances; each takes the time from Redis <c>TIME</c>, so no instance's
/// clock can shorten or stretch a shared break. Every script returns the state after it ran, in the shape that
/// <see cref="FleetState.Parse"/> reads.
/// </summary>
/// <remarks>
/// KEYS are the state hash, the trip set and the probe lease of <see cref="FleetKeys"/>. ARGV 1 to 4 are the instance
/// id, the pub/sub channel, the lifetime of a closed state in milliseconds and the circuit name. The arguments of each
/// script follow them. A script that changes the state bumps the version field and publishes the circuit name.
/// </remarks>
internal static class FleetScripts
{
    private const string Prelude = """
        if redis.replicate_commands then redis.replicate_commands() end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local function reply(outcome)
          local h = redis.call('HMGET', KEYS[1], 's', 'v', 'u', 'o', 'b', 'f', 'r')
          local state = h[1] or 'closed'
          local remaining = 0
          local ago = 0
          if state == 'open' then remaining = tonumber(h[3] or now) - now end
          if state ~= 'closed' then ago = now - tonumber(h[4] or now) end
          local owner = redis.call('GET', KEYS[3]) or ''
          local pttl = redis.call('PTTL', KEYS[3])
          return { state, tonumber(h[2] or '0'), remaining, ago, tonumber(h[5] or '0'), tonumber(h[6] or '0'), h[7] or '', owner, pttl, outcome }
        end
        local function set_state(state, until_ms, base, failures, reason)
          redis.call('HDEL', KEYS[1], 'p')
          redis.call('HSET', KEYS[1], 's', state, 'u', until_ms, 'o', now, 'b', base, 'f', failures, 'r', reason)
          redis.call('HINCRBY', KEYS[1], 'v', 1)
          if state == 'closed' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) else redis.call('PERSIST', KEYS[1]) end
          redis.call('PUBLISH', ARGV[2], ARGV[4])
        end

        """;

    private const string ReadScript = Prelude + "return reply('read')";

    /// <summary>ARGV 5 to 10: quorum, sampling duration, break, base break (milliseconds), consecutive failures, reason.</summary>
    private const string TripScript = Prelude + """
        if (redis.call('HGET', KEYS[1], 's') or 'closed') ~= 'closed' then return reply('ignored') end
        redis.call('ZADD', KEYS[2], now, ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[6]))
        redis.call('PEXPIRE', KEYS[2], ARGV[6])
        if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[5]) then return reply('counted') end
        redis.call('DEL', KEYS[2], KEYS[3])
        set_state('open', now + tonumber(ARGV[7]), ARGV[8], ARGV[9], ARGV[10])
        return reply('opened')
        """;

    /// <summary>ARGV 5: the probe timeout in milliseconds, which is how long the lease lasts.</summary>
    private const string AcquireScript = Prelude + """
        local h = redis.call('HMGET', KEYS[1], 's', 'u')
        if h[1] ~= 'open' then return reply('none') end
        if now < tonumber(h[2]) then return reply('wait') end
        if redis.call('GET', KEYS[3]) == ARGV[1] then
          redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[5])
        elseif not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[5]) then
          return reply('lost')
        end
        redis.call('HSET', KEYS[1], 'p', ARGV[1])
        return reply('won')
        """;

    /// <summary>
    /// ARGV 5 to 9: 1 for success or 0 for failure, break, base break (milliseconds), consecutive failures, reason.
    /// The lease holder's result counts. A failure also counts from the last winner of the lease (field <c>p</c>) after
    /// its lease expired, as long as no other instance took the lease since. The lease lasts ProbeTimeout, so a probe
    /// that timed out is always reported late, and ignoring it would let the next instance probe at once instead of
    /// backing off. A late success changes nothing, since another instance may already be probing.
    /// </summary>
    private const string ProbeResultScript = Prelude + """
        if redis.call('HGET', KEYS[1], 's') ~= 'open' then return reply('ignored') end
        local holder = redis.call('GET', KEYS[3])
        if holder ~= ARGV[1] and (ARGV[5] == '1' or holder or redis.call('HGET', KEYS[1], 'p') ~= ARGV[1]) then
          return reply('ignored')
        end
        redis.call('DEL', KEYS[3])
        if ARGV[5] == '1' then
          redis.call('DEL', KEYS[2])
          set_state('closed', 0, 0, 0, ARGV[9])
        else
          set_state('open', now + tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9])
        end
        return reply('applied')
        """;

    /// <summary>ARGV 5: <c>isolate</c> or <c>reset</c>.</summary>
    private const string ManualScript = Prelude + """
        redis.call('DEL', KEYS[3])
        if ARGV[5] == 'isolate' then
          set_state('isolated', 0, 0, tonumber(redis.call('HGET', KEYS[1], 'f') or '0'), 'Manual')
        else
          redis.call('DEL', KEYS[2])
          set_state('closed', 0, 0, 0, 'Manual')
        end
        return reply('applied')
        """;

    public static Task<FleetState> ReadAsync(IDatabaseAsync database, FleetScope scope, string circuitName) =>
        RunAsync(database, ReadScript, scope, circuitName);

    public static Task<FleetState> TripAsync(IDatabaseAsync database, FleetScope scope, string circuitName, TimeSpan samplingDuration, in FleetBreak fleetBreak) =>
        RunAsync(database, TripScript, scope, circuitName,
            scope.Quorum, ToMilliseconds(samplingDuration), ToMilliseconds(fleetBreak.Break), ToMilliseconds(fleetBreak.BaseBreak),
            fleetBreak.ConsecutiveFailures, fleetBreak.Reason.ToString());

    public static Task<FleetState> AcquireProbeAsync(IDatabaseAsync database, FleetScope scope, string circuitName, TimeSpan probeTimeout) =>
        RunAsync(database, AcquireScript, scope, circuitName, ToMilliseconds(probeTimeout));

    public static Task<FleetState> ReportProbeAsync(IDatabaseAsync database, FleetScope scope, string circuitName, bool succeeded, in FleetBreak fleetBreak) =>
        RunAsync(database, ProbeResultScript, scope, circuitName,
            succeeded ? 1 : 0, ToMilliseconds(fleetBreak.Break), ToMilliseconds(fleetBreak.BaseBreak), fleetBreak.ConsecutiveFailures, fleetBreak.Reason.ToString());

    public static Task<FleetState> SetManualAsync(IDatabaseAsync database, FleetScope scope, string circuitName, bool isolate) =>
        RunAsync(database, ManualScript, scope, circuitName, isolate ? "isolate" : "reset");

    private static async Task<FleetState> RunAsync(IDatabaseAsync database, string script, FleetScope scope, string circuitName, params RedisValue[] arguments)
    {
        RedisValue[] values =
        [
            scope.InstanceId,
            scope.Channel.ToString(),
            ToMilliseconds(RedisFleetDefaults.ClosedStateLifetime),
            circuitName,
            .. arguments,
        ];

        RedisResult result = await database.ScriptEvaluateAsync(script, new FleetKeys(scope.KeyPrefix, circuitName).All, values).ConfigureAwait(false);
        return FleetState.Parse(result);
    }

    /// <summary>Rounds up, so that a break of a fraction of a millisecond never becomes zero.</summary>
    private static long ToMilliseconds(TimeSpan duration) => (long)Math.Ceiling(duration.TotalMilliseconds);
}
