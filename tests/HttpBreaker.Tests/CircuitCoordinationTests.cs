using HttpBreaker.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace HttpBreaker.Tests;

/// <summary>
/// The hooks through which a coordinator shares a circuit between instances: the probe gate and the transitions it
/// applies when the shared state changed elsewhere.
/// </summary>
public class CircuitCoordinationTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    private FakeTimeProvider _time = null!;
    private RecordingGate _gate = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _gate = new RecordingGate();
    }

    [Test]
    public void ProbeGate_Closed_IsNeverAsked()
    {
        Circuit circuit = CreateCircuit();

        Assert.That(circuit.TryAdmit(out _), Is.True);
        Assert.That(_gate.Asked, Is.Zero);
    }

    [Test]
    public void ProbeGate_Rejects_KeepsCircuitOpen()
    {
        Circuit circuit = CreateCircuit();
        circuit.ApplyOpen(TimeSpan.Zero, BreakDuration, 3, BreakDuration, CircuitTransitionReason.FailureThreshold);
        _time.Advance(BreakDuration);

        bool admitted = circuit.TryAdmit(out Admission admission);

        Assert.That(admitted, Is.False);
        Assert.That(admission.Phase.State, Is.EqualTo(CircuitState.Open));
        Assert.That(circuit.CurrentPhase.State, Is.EqualTo(CircuitState.Open));
        Assert.That(_gate.Asked, Is.EqualTo(1));
    }

    [Test]
    public void ProbeGate_BeforeBreakEnds_IsNotAsked()
    {
        Circuit circuit = CreateCircuit();
        circuit.ApplyOpen(TimeSpan.Zero, BreakDuration, 3, BreakDuration, CircuitTransitionReason.FailureThreshold);
        _time.Advance(BreakDuration - TimeSpan.FromSeconds(1));

        Assert.That(circuit.TryAdmit(out _), Is.False);
        Assert.That(_gate.Asked, Is.Zero);
    }

    [Test]
    public void ProbeGate_Admits_RequestBecomesProbe()
    {
        Circuit circuit = CreateCircuit();
        circuit.ApplyOpen(TimeSpan.Zero, BreakDuration, 3, BreakDuration, CircuitTransitionReason.FailureThreshold);
        _time.Advance(BreakDuration);
        _gate.Answer = true;

        bool admitted = circuit.TryAdmit(out Admission admission);

        Assert.That(admitted, Is.True);
        Assert.That(admission.Phase.State, Is.EqualTo(CircuitState.HalfOpen));
    }

    [Test]
    public void ApplyOpen_Closed_ReportsWithReason()
    {
        Circuit circuit = CreateCircuit();

        circuit.ApplyOpen(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20), 4, BreakDuration, CircuitTransitionReason.FailureRatio);

        CircuitSnapshot snapshot = circuit.GetSnapshot();
        Assert.That(snapshot.State, Is.EqualTo(CircuitState.Open));
        Assert.That(snapshot.OpenedAt, Is.EqualTo(_time.GetUtcNow() - TimeSpan.FromSeconds(5)));
        Assert.That(snapshot.NextProbeAt, Is.EqualTo(_time.GetUtcNow() + TimeSpan.FromSeconds(20)));
        Assert.That(snapshot.ConsecutiveFailures, Is.EqualTo(4));
        Assert.That(_gate.Transitions, Is.EqualTo(new[] { (CircuitState.Closed, CircuitState.Open, CircuitTransitionReason.FailureRatio) }));
    }

    [Test]
    public void ApplyOpen_AlreadyOpen_MovesBreakSilently()
    {
        Circuit circuit = CreateCircuit();
        circuit.ApplyOpen(TimeSpan.Zero, BreakDuration, 3, BreakDuration, CircuitTransitionReason.FailureThreshold);

        circuit.ApplyOpen(TimeSpan.Zero, TimeSpan.FromSeconds(2), 3, BreakDuration, CircuitTransitionReason.FailureThreshold);
        _time.Advance(TimeSpan.FromSeconds(2));
        _gate.Answer = true;

        Assert.That(_gate.Transitions, Has.Count.EqualTo(1), "moving the break of an open circuit is no transition");
        Assert.That(circuit.TryAdmit(out _), Is.True, "the moved break ended after 2 s, not 30 s");
    }

    [Test]
    public void ApplyOpen_Isolated_StaysIsolated()
    {
        Circuit circuit = CreateCircuit();
        circuit.Isolate();

        circuit.ApplyOpen(TimeSpan.Zero, BreakDuration, 3, BreakDuration, CircuitTransitionReason.FailureThreshold);

        Assert.That(circuit.CurrentPhase.State, Is.EqualTo(CircuitState.Isolated));
    }

    [Test]
    public void ApplyClosed_Isolated_ClosesOnlyForManual()
    {
        Circuit circuit = CreateCircuit();
        circuit.Isolate();

        circuit.ApplyClosed(CircuitTransitionReason.ProbeSucceeded);
        CircuitState afterProbe = circuit.CurrentPhase.State;
        circuit.ApplyClosed(CircuitTransitionReason.Manual);

        Assert.That(afterProbe, Is.EqualTo(CircuitState.Isolated));
        Assert.That(circuit.CurrentPhase.State, Is.EqualTo(CircuitState.Closed));
    }

    [Test]
    public void ApplyClosed_Open_ReportsWithReason()
    {
        Circuit circuit = CreateCircuit();
        circuit.ApplyOpen(TimeSpan.Zero, BreakDuration, 3, BreakDuration, CircuitTransitionReason.FailureThreshold);

        circuit.ApplyClosed(CircuitTransitionReason.ProbeSucceeded);

        Assert.That(circuit.CurrentPhase.State, Is.EqualTo(CircuitState.Closed));
        Assert.That(_gate.Transitions[^1], Is.EqualTo((CircuitState.Open, CircuitState.Closed, CircuitTransitionReason.ProbeSucceeded)));
    }

    [Test]
    public void TryApplyHalfOpen_SkipsGate()
    {
        Circuit circuit = CreateCircuit();
        circuit.ApplyOpen(TimeSpan.Zero, BreakDuration, 3, BreakDuration, CircuitTransitionReason.FailureThreshold);
        var open = (OpenPhase)circuit.CurrentPhase;

        bool moved = circuit.TryApplyHalfOpen(open);
        bool admitted = circuit.TryAdmit(out Admission admission);

        Assert.That(moved, Is.True);
        Assert.That(admitted, Is.True);
        Assert.That(admission.Phase.State, Is.EqualTo(CircuitState.HalfOpen));
        Assert.That(_gate.Asked, Is.Zero);
        Assert.That(circuit.TryApplyHalfOpen(open), Is.False, "the open phase is no longer current");
    }

    private Circuit CreateCircuit() =>
        new("shared", partitionKey: null, CircuitPolicy.Create(new CircuitBreakerOptions { BreakDuration = BreakDuration }), _time, NullLogger.Instance, _gate);

    /// <summary>An event sink that records transitions, and a probe gate that returns <see cref="Answer"/>.</summary>
    private sealed class RecordingGate : ICircuitEventSink, ICircuitProbeGate
    {
        public bool Answer { get; set; }

        public int Asked { get; private set; }

        public List<(CircuitState From, CircuitState To, CircuitTransitionReason Reason)> Transitions { get; } = [];

        public void OnTransition(Circuit circuit, CircuitState from, CircuitState to, CircuitTransitionReason reason, DateTimeOffset timestamp) =>
            Transitions.Add((from, to, reason));

        public bool TryEnterHalfOpen(Circuit circuit, OpenPhase open)
        {
            Asked++;
            return Answer;
        }
    }
}
