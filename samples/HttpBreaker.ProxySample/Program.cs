using System.Text.Json;
using HttpBreaker.ProxySample;
using Microsoft.Extensions.Options;

if (!ProxyArguments.TryParse(args, out ProxyArguments? options, out string? error))
{
    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine();
    Console.Error.WriteLine(ProxyArguments.Usage);
    return 2;
}

if (options.ShowHelp)
{
    Console.WriteLine(ProxyArguments.Usage);
    return 0;
}

if (options.Demo)
{
    // A hung step fails the run instead of holding a CI job. The demo itself takes a few seconds.
    using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        limit.Cancel();
    };

    try
    {
        return await ProxyDemo.RunAsync(options.ToConfigurationArgs(), Console.Out, limit.Token);
    }
    catch (OptionsValidationException exception)
    {
        Console.Error.WriteLine($"error: invalid configuration. {exception.Message}");
        return 2;
    }
    catch (OperationCanceledException) when (limit.IsCancellationRequested)
    {
        Console.Error.WriteLine("The demo was stopped or ran past 30 s before it finished.");
        return 1;
    }
    catch (Exception exception) when (exception is HttpRequestException or JsonException or InvalidOperationException or KeyNotFoundException)
    {
        // A response that is not what a step can read, such as a body that is not the expected JSON, fails the run
        // with the reason rather than a crash.
        Console.Error.WriteLine($"The demo failed: {exception}");
        return 1;
    }
}

await using FlakyUpstream? upstream = options.Upstream is null ? await FlakyUpstream.StartAsync() : null;
await using WebApplication app = ProxyApp.Build(options.ToConfigurationArgs(), options.Upstream ?? upstream!.Address);
try
{
    // The host validates the breaker's options on start, so a misspelled key or a bad value stops here.
    await app.StartAsync();
}
catch (OptionsValidationException exception)
{
    Console.Error.WriteLine($"error: invalid configuration. {exception.Message}");
    return 2;
}

Uri proxy = ProxyApp.GetAddress(app);
Console.WriteLine($"Proxy listening on {proxy}. Press Ctrl+C to stop.");
Console.WriteLine($"  curl -i {proxy}api/v1/external");
Console.WriteLine($"  curl {proxy}circuits");
Console.WriteLine($"  curl {proxy}health");
Console.WriteLine($"  curl -X POST {proxy}circuits/{ProxyApp.ClientName}/isolate     (and /reset)");
if (upstream is not null)
{
    Console.WriteLine($"Built-in upstream on {upstream.Address}; switch it with:");
    Console.WriteLine($"  curl -X POST {upstream.Address}control/failing     (or healthy, overloaded, hanging)");
}

await app.WaitForShutdownAsync();
return 0;
