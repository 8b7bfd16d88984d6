using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using HttpBreaker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace HttpBreaker.Tests;

/// <summary>
/// The metrics on the <c>HttpBreaker</c> meter and the events on the current activity.
/// </summary>
public class TelemetryTests
{
    private static MetricCollector<T> Collect<T>(BreakerServices services, string instrument)
        where T : struct =>
        new(services.Provider.GetRequiredService<IMeterFactory>(), "HttpBreaker", instrument);

    private static object? Tag(CollectedMeasurement<long> measurement, string name) =>
        measurement.Tags.TryGetValue(name, out object? value) ? value : null;

    [Test]
    public async Task Transitions_OpenAndProbe_CountedWithStatesAndReason()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        using MetricCollector<long> transitions = Collect<long>(services, "httpbreaker.circuit.transitions");

        await services.SendAsync(HttpStatusCode.InternalServerError, 2);
        services.Time.Advance(TimeSpan.FromSeconds(30));
        await services.SendAsync(HttpStatusCode.OK, 1);

        IReadOnlyList<CollectedMeasurement<long>> measured = transitions.GetMeasurementSnapshot();
        Assert.That(measured.Select(m => $"{Tag(m, "httpbreaker.transition.from")}>{Tag(m, "httpbreaker.transition.to")}:{Tag(m, "httpbreaker.transition.reason")}"),
            Is.EqualTo(new[] { "closed>open:failure_threshold", "open>half_open:break_elapsed", "half_open>closed:probe_succeeded" }));
        Assert.That(measured.Select(m => m.Value), Is.All.EqualTo(1));
        Assert.That(measured.Select(m => Tag(m, "httpbreaker.client.name")), Is.All.EqualTo(BreakerServices.ClientName));
        Assert.That(transitions.Instrument!.Unit, Is.EqualTo("{transition}"));
    }

    [Test]
    public async Task Rejections_WhileOpen_CountedWithState()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        using MetricCollector<long> rejections = Collect<long>(services, "httpbreaker.request.rejections");

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        Assert.That(rejections.GetMeasurementSnapshot(), Is.Empty, "the failure that opened the circuit was sent");

        await services.SendAsync(HttpStatusCode.OK, 3);

        IReadOnlyList<CollectedMeasurement<long>> measured = rejections.GetMeasurementSnapshot();
        Assert.That(measured, Has.Count.EqualTo(3));
        Assert.That(measured.Select(m => Tag(m, "httpbreaker.circuit.state")), Is.All.EqualTo("open"));
        Assert.That(measured.Select(m => Tag(m, "httpbreaker.client.name")), Is.All.EqualTo(BreakerServices.ClientName));
    }

    [Test]
    public async Task Outcomes_EachKind_CountedByOutcome()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(o => o.Timeout = TimeSpan.FromSeconds(3), gate);
        using MetricCollector<long> outcomes = Collect<long>(services, "httpbreaker.request.outcomes");
        using HttpClient client = services.CreateClient();

        foreach (HttpStatusCode status in new[] { HttpStatusCode.OK, HttpStatusCode.InternalServerError, HttpStatusCode.NotFound })
        {
            Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url);
            gate.Next().Respond(status);
            (await sending).Dispose();
        }

        Task<HttpResponseMessage> hanging = client.GetAsync(BreakerServices.Url);
        services.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.ThrowsAsync<TaskCanceledException>(() => hanging);

        Assert.That(outcomes.GetMeasurementSnapshot().Select(m => Tag(m, "httpbreaker.outcome")),
            Is.EqualTo(new[] { "success", "failure", "ignored", "timeout" }));
    }

    [Test]
    public async Task Outcomes_CallerCancels_NotCounted()
    {
        var gate = new GatedHandler();
        using var services = BreakerServices.Create(primaryHandler: gate);
        using MetricCollector<long> outcomes = Collect<long>(services, "httpbreaker.request.outcomes");
        using HttpClient client = services.CreateClient();
        using var cancellation = new CancellationTokenSource();

        Task<HttpResponseMessage> sending = client.GetAsync(BreakerServices.Url, cancellation.Token);
        await cancellation.CancelAsync();

        Assert.CatchAsync<OperationCanceledException>(() => sending);
        Assert.That(outcomes.GetMeasurementSnapshot(), Is.Empty);
    }

    [Test]
    public async Task CircuitsGauge_ReportsEveryStateOfEachClient()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        using var circuits = new MetricCollector<int>(services.Provider.GetRequiredService<IMeterFactory>(), "HttpBreaker", "httpbreaker.circuits");

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);
        circuits.RecordObservableInstruments();

        Dictionary<object, int> byState = circuits.GetMeasurementSnapshot().ToDictionary(m => m.Tags["httpbreaker.circuit.state"]!, m => m.Value);
        Assert.That(byState, Is.EqualTo(new Dictionary<object, int> { ["closed"] = 0, ["open"] = 1, ["half_open"] = 0, ["isolated"] = 0 }));

        services.Registry.Reset(BreakerServices.ClientName);
        circuits.Clear();
        circuits.RecordObservableInstruments();

        byState = circuits.GetMeasurementSnapshot().ToDictionary(m => m.Tags["httpbreaker.circuit.state"]!, m => m.Value);
        Assert.That(byState["closed"], Is.EqualTo(1));
        Assert.That(byState["open"], Is.Zero, "a recovered client reports zero open circuits rather than nothing");
    }

    [Test]
    public async Task PartitionKey_NotATagByDefault()
    {
        using var services = BreakerServices.Create(o => o.PartitionBy = PartitionBy.Authority);
        using MetricCollector<long> outcomes = Collect<long>(services, "httpbreaker.request.outcomes");

        await services.SendAsync(HttpStatusCode.OK, 1);

        Assert.That(outcomes.LastMeasurement!.Tags.Keys, Is.EquivalentTo(new[] { "httpbreaker.client.name", "httpbreaker.outcome" }));
    }

    [Test]
    public async Task PartitionKey_WhenIncluded_IsATag()
    {
        using var services = BreakerServices.Create(o =>
        {
            o.PartitionBy = PartitionBy.Authority;
            o.IncludePartitionKeyInMetrics = true;
            o.FailureThreshold = 1;
        });
        using MetricCollector<long> outcomes = Collect<long>(services, "httpbreaker.request.outcomes");
        using MetricCollector<long> transitions = Collect<long>(services, "httpbreaker.circuit.transitions");

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(Tag(outcomes.LastMeasurement!, "httpbreaker.partition.key"), Is.EqualTo("http://upstream.test:80"));
        Assert.That(Tag(transitions.LastMeasurement!, "httpbreaker.partition.key"), Is.EqualTo("http://upstream.test:80"));
    }

    [Test]
    public async Task Activity_RejectedRequest_GetsEventAndDecisionTag()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        using var source = new ActivitySource(nameof(Activity_RejectedRequest_GetsEventAndDecisionTag));
        using ActivityListener listener = ListenTo(source);

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        using Activity activity = source.StartActivity("call upstream")!;
        await services.SendAsync(HttpStatusCode.OK, 1);

        Assert.That(activity.GetTagItem("httpbreaker.decision"), Is.EqualTo("rejected"));
        Assert.That(activity.GetTagItem("httpbreaker.circuit.name"), Is.EqualTo(BreakerServices.ClientName));
        ActivityEvent rejected = activity.Events.Single();
        Assert.That(rejected.Name, Is.EqualTo("httpbreaker.rejected"));
        Dictionary<string, object?> tags = rejected.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.That(tags["httpbreaker.circuit.state"], Is.EqualTo("open"));
        Assert.That(tags["httpbreaker.retry_at"], Is.EqualTo(services.Snapshot.NextProbeAt!.Value.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task Activity_RequestThatOpensCircuit_GetsStateChangedEvent()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 2);
        using var source = new ActivitySource(nameof(Activity_RequestThatOpensCircuit_GetsStateChangedEvent));
        using ActivityListener listener = ListenTo(source);

        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        using Activity activity = source.StartActivity("call upstream")!;
        await services.SendAsync(HttpStatusCode.InternalServerError, 1);

        Assert.That(activity.GetTagItem("httpbreaker.decision"), Is.EqualTo("admitted"));
        ActivityEvent changed = activity.Events.Single();
        Assert.That(changed.Name, Is.EqualTo("httpbreaker.state_changed"));
        Dictionary<string, object?> tags = changed.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.That(tags["httpbreaker.transition.from"], Is.EqualTo("closed"));
        Assert.That(tags["httpbreaker.transition.to"], Is.EqualTo("open"));
        Assert.That(tags["httpbreaker.transition.reason"], Is.EqualTo("failure_threshold"));
        Assert.That(changed.Timestamp, Is.EqualTo(services.Time.GetUtcNow()));
    }

    [Test]
    public async Task Activity_NoneCurrent_RequestsStillFlow()
    {
        using var services = BreakerServices.Create(o => o.FailureThreshold = 1);
        Assert.That(Activity.Current, Is.Null);

        await services.SendAsync(HttpStatusCode.InternalServerError, 2);

        Assert.That(services.State, Is.EqualTo(CircuitState.Open));
        Assert.That(services.UpstreamCalls, Is.EqualTo(1));
    }

    private static ActivityListener ListenTo(ActivitySource source)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = candidate => ReferenceEquals(candidate, source),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
