using System.Diagnostics;
using System.Globalization;
using HttpBreaker;
using HttpBreaker.FleetSample;

// Three instances of one application share the circuit of their client "upstream" through Redis. The upstream fails
// while only instance 1 sends to it, and instances 2 and 3 open without a failure of their own. Then the upstream
// recovers, one instance probes for all three, and all three close.
const string Usage = """
    Usage: dotnet run --project samples/HttpBreaker.FleetSample -- [--redis CONFIGURATION]

      --redis CONFIGURATION  StackExchange.Redis configuration string of the Redis to share, such as 127.0.0.1:6379.
                             Default: start redis-server on a free port of 127.0.0.1 for the run.
      --help                 Show this text.
    """;

string? redisConfiguration = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--help" or "-h":
            Console.WriteLine(Usage);
            return 0;
        case "--redis" when i + 1 < args.Length:
            redisConfiguration = args[++i];
            break;
        default:
            Console.Error.WriteLine($"error: unknown or incomplete argument '{args[i]}'.");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

using var stopping = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopping.Cancel();
};

LocalRedis? localRedis = null;
if (redisConfiguration is null)
{
    if (LocalRedis.FindBinary() is not { } binary)
    {
        Console.Error.WriteLine("error: redis-server was not found. Install it (apt-get install -y redis-server) or pass --redis HOST:PORT.");
        return 2;
    }

    localRedis = await LocalRedis.StartAsync(binary, stopping.Token);
    redisConfiguration = localRedis.Configuration;
}

try
{
    await using SwitchableUpstream upstream = await SwitchableUpstream.StartAsync();
    var clock = Stopwatch.StartNew();
    var timeline = new FleetTimeline(clock);

    // A prefix of its own keeps this run apart from other runs and applications sharing the same Redis.
    string keyPrefix = $"fleet-sample-{Guid.NewGuid():N}"[..24];
    Console.WriteLine($"Redis {redisConfiguration}{(localRedis is null ? string.Empty : " (started for this run)")}, upstream {upstream.Address}, key prefix {keyPrefix}");

    var instances = new List<SampleInstance>();
    try
    {
        for (int number = 1; number <= 3; number++)
        {
            int instanceNumber = number;
            instances.Add(new SampleInstance(
                number,
                upstream.Address,
                options =>
                {
                    options.Configuration = redisConfiguration;
                    options.KeyPrefix = keyPrefix;
                    options.Quorum = 1;
                    options.RefreshInterval = TimeSpan.FromSeconds(1);
                },
                (_, change) => timeline.Record(instanceNumber, change)));
        }

        var runner = new FleetRun(instances, upstream, timeline);
        bool sawCycle = await runner.RunAsync(stopping.Token);
        return sawCycle ? 0 : 1;
    }
    finally
    {
        foreach (SampleInstance instance in instances)
        {
            await instance.DisposeAsync();
        }
    }
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    Console.Error.WriteLine("Stopped.");
    return 130;
}
finally
{
    if (localRedis is not null)
    {
        await localRedis.DisposeAsync();
    }
}
