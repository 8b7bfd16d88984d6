using System.Net;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.Logging;

namespace HttpBreaker.Tests;

public class LoggingTests
{
    [Test]
    public async Task FullCycle_LogsEachTransitionWithClientName()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);

        await services.SendAsync(HttpStatusCode.InternalServerError, 2);
        await services.SendAsync(HttpStatusCode.OK, 1);
        services.Time.Advance(TimeSpan.FromSeconds(30));
        await services.SendAsync(HttpStatusCode.OK, 1);

        LogEntry[] breaker = services.Logs.Entries.Where(e => e.Category == "HttpBreaker.CircuitBreaker").ToArray();
        Assert.That(breaker.Select(e => (e.EventId, e.Level)), Is.EqualTo(new[]
        {
            (1, LogLevel.Warning),
            (7, LogLevel.Debug),
            (3, LogLevel.Information),
            (4, LogLevel.Information),
        }));
        Assert.That(breaker.Select(e => e.Message), Is.All.Contains("'github'"));
        Assert.That(breaker[0].Message, Does.Contain("opened: the consecutive failure count reached 2"));
    }

    [Test]
    public async Task ProbeFailed_LogsWarning()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        services.Time.Advance(TimeSpan.FromSeconds(30));
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        LogEntry reopened = services.Logs.Entries.Single(e => e.EventId == 2);
        Assert.That(reopened.Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(reopened.Message, Does.Contain("probe failed"));
    }

    [Test]
    public void IsolateAndReset_Logged()
    {
        using var services = BreakerServices.Create();

        services.Registry.Isolate(BreakerServices.ClientName);
        services.Registry.Reset(BreakerServices.ClientName);

        Assert.That(services.Logs.Entries.Single(e => e.EventId == 5).Level, Is.EqualTo(LogLevel.Warning));
        Assert.That(services.Logs.Entries.Single(e => e.EventId == 6).Message, Does.Contain("was Isolated"));
    }
}
