using System.Net;
using System.Text.Json;

namespace HttpBreaker.ProxySample;

/// <summary>
/// The <c>--demo</c> run: starts the flaky upstream and the proxy, walks one circuit through closed, open,
/// half-open, closed, isolated and reset over real HTTP, and counts every step that did not behave as expected.
/// It uses a one-second break and timeout, so the run takes a few seconds of real time.
/// </summary>
internal sealed class ProxyDemo
{
    private static readonly string[] DemoSettings =
    [
        "--HttpBreaker:Clients:external:FailureThreshold=3",
        "--HttpBreaker:Clients:external:BreakDuration=00:00:01",
        "--HttpBreaker:Clients:external:Timeout=00:00:01",
        "--Logging:LogLevel:Default=Warning",
        $"--Logging:LogLevel:{ExternalEndpoint.LogCategory}=None",
        "--Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=Error",
    ];

    private readonly HttpClient _proxy;
    private readonly FlakyUpstream _upstream;
    private readonly TextWriter _output;
    private int _failedSteps;

    private ProxyDemo(HttpClient proxy, FlakyUpstream upstream, TextWriter output)
    {
        _proxy = proxy;
        _upstream = upstream;
        _output = output;
    }

    /// <summary>
    /// Runs the demo and returns the exit code: 0 when every step behaved as expected, 1 otherwise.
    /// </summary>
    /// <param name="args">Configuration arguments. The demo's own settings for the threshold, break and timeout win over them.</param>
    /// <param name="output">Where each step is printed.</param>
    /// <param name="cancellationToken">Stops the run, such as on Ctrl+C or when it runs too long.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        await using FlakyUpstream upstream = await FlakyUpstream.StartAsync(cancellationToken);
        await using WebApplication app = ProxyApp.Build([.. args, .. DemoSettings], upstream.Address);
        await app.StartAsync(cancellationToken);

        using var proxy = new HttpClient { BaseAddress = ProxyApp.GetAddress(app), Timeout = TimeSpan.FromSeconds(10) };
        output.WriteLine($"proxy on {proxy.BaseAddress}, upstream on {upstream.Address}");
        var demo = new ProxyDemo(proxy, upstream, output);
        await demo.WalkAsync(cancellationToken);
        await app.StopAsync(cancellationToken);

        output.WriteLine(demo._failedSteps == 0 ? "Every step behaved as expected." : $"{demo._failedSteps} steps did not behave as expected.");
        return demo._failedSteps == 0 ? 0 : 1;
    }

    private async Task WalkAsync(CancellationToken cancellationToken)
    {
        _output.WriteLine("-- the upstream is healthy");
        DemoResponse response = await SendAsync(HttpMethod.Get, "api/v1/external", cancellationToken);
        Expect(response.Status == HttpStatusCode.OK && response.ContentType == "application/json" && response.Body.Contains("flaky-upstream", StringComparison.Ordinal), "passed through", response);
        await ExpectHealthAsync("Healthy", cancellationToken);

        _output.WriteLine("-- the upstream fails: each 500 is passed on until the circuit opens");
        _upstream.Mode = UpstreamMode.Failing;
        for (int i = 0; i < 3; i++)
        {
            response = await SendAsync(HttpMethod.Get, "api/v1/external", cancellationToken);
            Expect(response.Status == HttpStatusCode.InternalServerError && response.Reason == "upstream-status", "upstream status passed on", response);
        }

        int received = _upstream.RequestCount;
        response = await SendAsync(HttpMethod.Get, "api/v1/external", cancellationToken);
        Expect(response.Status == HttpStatusCode.ServiceUnavailable && response.Reason == "circuit-open" && response.RetryAfter is not null, "rejected by the open circuit", response);
        Expect(_upstream.RequestCount == received, "upstream not called while open", $"{_upstream.RequestCount - received} requests reached it");
        await ExpectHealthAsync("Degraded", cancellationToken);
        DateTimeOffset? nextProbeAt = await ExpectCircuitAsync("open", cancellationToken);

        _output.WriteLine("-- the upstream recovers: after the break, the next request probes and closes the circuit");
        _upstream.Mode = UpstreamMode.Healthy;
        if (nextProbeAt is { } probeAt && probeAt - DateTimeOffset.UtcNow is { Ticks: > 0 } wait)
        {
            // The break runs on the system clock here, so the demo waits it out. The tests advance a fake clock instead.
            await Task.Delay(wait + TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        response = await SendAsync(HttpMethod.Get, "api/v1/external", cancellationToken);
        Expect(response.Status == HttpStatusCode.OK, "probe passed through", response);
        await ExpectCircuitAsync("closed", cancellationToken);
        await ExpectHealthAsync("Healthy", cancellationToken);

        _output.WriteLine("-- an operator isolates the circuit, then resets it");
        response = await SendAsync(HttpMethod.Post, "circuits/external/isolate", cancellationToken);
        Expect(response.Status == HttpStatusCode.OK && response.Body.Contains("\"isolated\"", StringComparison.Ordinal), "isolated", response);
        response = await SendAsync(HttpMethod.Get, "api/v1/external", cancellationToken);
        Expect(response.Status == HttpStatusCode.ServiceUnavailable && response.Reason == "circuit-isolated" && response.RetryAfter is null, "rejected without Retry-After", response);
        await ExpectHealthAsync("Degraded", cancellationToken);
        response = await SendAsync(HttpMethod.Post, "circuits/external/reset", cancellationToken);
        Expect(response.Status == HttpStatusCode.OK && response.Body.Contains("\"closed\"", StringComparison.Ordinal), "reset", response);
        response = await SendAsync(HttpMethod.Get, "api/v1/external", cancellationToken);
        Expect(response.Status == HttpStatusCode.OK, "passed through again", response);
        response = await SendAsync(HttpMethod.Post, "circuits/missing/isolate", cancellationToken);
        Expect(response.Status == HttpStatusCode.NotFound && response.Reason == "circuit-not-found", "unknown client", response);

        _output.WriteLine("-- the upstream hangs past the breaker's one-second Timeout");
        _upstream.Mode = UpstreamMode.Hanging;
        response = await SendAsync(HttpMethod.Get, "api/v1/external", cancellationToken);
        Expect(response.Status == HttpStatusCode.GatewayTimeout && response.Reason == "upstream-timeout", "timed out", response);
        _upstream.Mode = UpstreamMode.Healthy;

        _output.WriteLine("-- the upstream stops, so connections to it are refused");
        await _upstream.StopAsync();
        response = await SendAsync(HttpMethod.Get, "api/v1/external", cancellationToken);
        Expect(response.Status == HttpStatusCode.ServiceUnavailable && response.Reason == "upstream-unreachable", "unreachable", response);
    }

    private async Task ExpectHealthAsync(string expected, CancellationToken cancellationToken)
    {
        DemoResponse response = await SendAsync(HttpMethod.Get, "health", cancellationToken);
        string? status = response.Json?.GetProperty("status").GetString();
        Expect(status == expected, $"health {expected}", response);
    }

    /// <summary>Checks the state of the <c>external</c> circuit and returns its next probe time.</summary>
    private async Task<DateTimeOffset?> ExpectCircuitAsync(string expected, CancellationToken cancellationToken)
    {
        DemoResponse response = await SendAsync(HttpMethod.Get, "circuits", cancellationToken);
        JsonElement? circuit = response.Json?.EnumerateArray().FirstOrDefault(c => c.GetProperty("name").GetString() == ProxyApp.ClientName);
        string? state = circuit?.GetProperty("state").GetString();
        Expect(state == expected, $"circuit {expected}", response);
        return circuit?.GetProperty("nextProbeAt") is { ValueKind: JsonValueKind.String } next ? next.GetDateTimeOffset() : null;
    }

    private async Task<DemoResponse> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        using HttpResponseMessage response = await _proxy.SendAsync(request, cancellationToken);
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new DemoResponse($"{method} /{path}", response.StatusCode, response.Content.Headers.ContentType?.MediaType, response.Headers.RetryAfter?.Delta, body);
    }

    private void Expect(bool passed, string step, DemoResponse response) => Expect(passed, step, response.ToString());

    private void Expect(bool passed, string step, string detail)
    {
        if (!passed)
        {
            _failedSteps++;
        }

        _output.WriteLine($"  {(passed ? "ok  " : "FAIL")}  {step,-36} {detail}");
    }
}
