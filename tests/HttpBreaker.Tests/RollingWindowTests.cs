using HttpBreaker.Internal;
using Microsoft.Extensions.Time.Testing;

namespace HttpBreaker.Tests;

public class RollingWindowTests
{
    [Test]
    public void AddFailure_AfterConcurrentSuccesses_CountsEveryOne()
    {
        const int Threads = 8;
        const int SuccessesPerThread = 20_000;
        var window = new RollingWindow(TimeSpan.FromSeconds(30), 10, new FakeTimeProvider());

        // Threads on different processors count in different stripes; the totals must add every stripe.
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, _ =>
        {
            for (int i = 0; i < SuccessesPerThread; i++)
            {
                window.AddSuccess();
            }
        });
        (int failures, int throughput) = window.AddFailure();

        Assert.That(failures, Is.EqualTo(1));
        Assert.That(throughput, Is.EqualTo((Threads * SuccessesPerThread) + 1));
    }

    [Test]
    public void AddFailure_AfterSamplingDuration_ForgetsOldSuccesses()
    {
        var time = new FakeTimeProvider();
        var window = new RollingWindow(TimeSpan.FromSeconds(10), 10, time);
        for (int i = 0; i < 5; i++)
        {
            window.AddSuccess();
        }

        time.Advance(TimeSpan.FromSeconds(11));
        (int failures, int throughput) = window.AddFailure();

        Assert.That(failures, Is.EqualTo(1));
        Assert.That(throughput, Is.EqualTo(1));
    }
}
