using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace HttpBreaker.Internal;

/// <summary>
/// Publishes what the circuits do as metrics on the <c>HttpBreaker</c> meter and as events on the current
/// <see cref="Activity"/>, and passes every state change on to the next sink.
/// </summary>
/// <remarks>
/// Every instrument checks <see cref="Instrument.Enabled"/> first, so with no listener a request pays one field
/// read per instrument and nothing else. The tags are names and constants, never formatted strings, so recording
/// allocates nothing either.
/// </remarks>
internal sealed class CircuitTelemetry : ICircuitEventSink, IDisposable
{
    public const string MeterName = "HttpBreaker";
    public const string TransitionsInstrument = "httpbreaker.circuit.transitions";
    public const string RejectionsInstrument = "httpbreaker.request.rejections";
    public const string OutcomesInstrument = "httpbreaker.request.outcomes";
    public const string CircuitsInstrument = "httpbreaker.circuits";

    public const string ClientTag = "httpbreaker.client.name";
    public const string PartitionTag = "httpbreaker.partition.key";
    public const string CircuitTag = "httpbreaker.circuit.name";
    public const string StateTag = "httpbreaker.circuit.state";
    public const string FromTag = "httpbreaker.transition.from";
    public const string ToTag = "httpbreaker.transition.to";
    public const string ReasonTag = "httpbreaker.transition.reason";
    public const string OutcomeTag = "httpbreaker.outcome";
    public const string DecisionTag = "httpbreaker.decision";

    public const string RejectedEvent = "httpbreaker.rejected";
    public const string StateChangedEvent = "httpbreaker.state_changed";

    private static readonly CircuitState[] States = [CircuitState.Closed, CircuitState.Open, CircuitState.HalfOpen, CircuitState.Isolated];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly ICircuitEventSink _next;
    private readonly Counter<long> _transitions;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _outcomes;

    /// <param name="meterFactory">The factory that creates the meter. Without one, this class creates and disposes it.</param>
    /// <param name="next">Receives every state change after it is counted.</param>
    /// <param name="clients">Lists the clients whose circuits the gauge counts, read at each collection.</param>
    public CircuitTelemetry(IMeterFactory? meterFactory, ICircuitEventSink next, Func<IEnumerable<ClientCircuits>> clients)
    {
        _next = next;
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);

        _transitions = _meter.CreateCounter<long>(TransitionsInstrument, "{transition}",
            "State changes of circuits, by client, previous state, new state and reason.");
        _rejections = _meter.CreateCounter<long>(RejectionsInstrument, "{request}",
            "Requests that a circuit answered with a synthetic 503 instead of sending, by client and circuit state.");
        _outcomes = _meter.CreateCounter<long>(OutcomesInstrument, "{request}",
            "Requests sent through a circuit, by client and how their result counted: success, failure, ignored or timeout.");
        _meter.CreateObservableGauge(CircuitsInstrument, () => Observe(clients()), "{circuit}",
            "Circuits of each client in each state.");
    }

    public static string FormatState(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        CircuitState.Isolated => "isolated",
        _ => "unknown",
    };

    public static string FormatReason(CircuitTransitionReason reason) => reason switch
    {
        CircuitTransitionReason.FailureThreshold => "failure_threshold",
        CircuitTransitionReason.FailureRatio => "failure_ratio",
        CircuitTransitionReason.BreakElapsed => "break_elapsed",
        CircuitTransitionReason.ProbeSucceeded => "probe_succeeded",
        CircuitTransitionReason.ProbeFailed => "probe_failed",
        CircuitTransitionReason.ProbeTimedOut => "probe_timed_out",
        CircuitTransitionReason.Manual => "manual",
        CircuitTransitionReason.Evicted => "evicted",
        _ => "unknown",
    };

    public static string FormatOutcome(CircuitBreakerOutcome outcome) => outcome switch
    {
        CircuitBreakerOutcome.Success => "success",
        CircuitBreakerOutcome.Failure => "failure",
        CircuitBreakerOutcome.Ignored => "ignored",
        _ => "unknown",
    };

    /// <summary>Counts the outcome of a request that was sent.</summary>
    /// <param name="circuit">The circuit the request went through.</param>
    /// <param name="outcome">The outcome as its tag value, which includes <c>timeout</c>.</param>
    public void RecordOutcome(Circuit circuit, string outcome)
    {
        if (_outcomes.Enabled)
        {
            if (IncludesPartition(circuit, out string? partition))
            {
                _outcomes.Add(1, new(ClientTag, circuit.ClientName), new(OutcomeTag, outcome), new(PartitionTag, partition));
            }
            else
            {
                _outcomes.Add(1, new(ClientTag, circuit.ClientName), new(OutcomeTag, outcome));
            }
        }
    }

    /// <summary>Marks the current activity with the breaker's decision to send a request.</summary>
    public static void RecordAdmitted(Circuit circuit)
    {
        if (Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.SetTag(DecisionTag, "admitted");
            activity.SetTag(CircuitTag, circuit.Name);
        }
    }

    /// <summary>Counts a rejection and adds it, with the circuit state, to the current activity.</summary>
    public void RecordRejected(Circuit circuit, CircuitState state, DateTimeOffset? retryAt)
    {
        string stateName = FormatState(state);
        if (_rejections.Enabled)
        {
            if (IncludesPartition(circuit, out string? partition))
            {
                _rejections.Add(1, new(ClientTag, circuit.ClientName), new(StateTag, stateName), new(PartitionTag, partition));
            }
            else
            {
                _rejections.Add(1, new(ClientTag, circuit.ClientName), new(StateTag, stateName));
            }
        }

        if (Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.SetTag(DecisionTag, "rejected");
            activity.SetTag(CircuitTag, circuit.Name);

            var tags = new ActivityTagsCollection
            {
                [ClientTag] = circuit.ClientName,
                [CircuitTag] = circuit.Name,
                [StateTag] = stateName,
            };
            if (retryAt is { } retry)
            {
                tags["httpbreaker.retry_at"] = retry.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            }

            activity.AddEvent(new ActivityEvent(RejectedEvent, tags: tags));
        }
    }

    public void OnTransition(Circuit circuit, CircuitState from, CircuitState to, CircuitTransitionReason reason, DateTimeOffset timestamp)
    {
        if (_transitions.Enabled)
        {
            var tags = new TagList
            {
                { ClientTag, circuit.ClientName },
                { FromTag, FormatState(from) },
                { ToTag, FormatState(to) },
                { ReasonTag, FormatReason(reason) },
            };
            if (IncludesPartition(circuit, out string? partition))
            {
                tags.Add(PartitionTag, partition);
            }

            _transitions.Add(1, tags);
        }

        // A change happens on the thread of the request or the call that caused it, so the current activity is the
        // one a trace reader looks at to learn why the state changed.
        if (Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.AddEvent(new ActivityEvent(StateChangedEvent, timestamp, new ActivityTagsCollection
            {
                [ClientTag] = circuit.ClientName,
                [CircuitTag] = circuit.Name,
                [FromTag] = FormatState(from),
                [ToTag] = FormatState(to),
                [ReasonTag] = FormatReason(reason),
            }));
        }

        _next.OnTransition(circuit, from, to, reason, timestamp);
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static bool IncludesPartition(Circuit circuit, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? partition)
    {
        partition = circuit.PartitionKey;
        return partition is not null && circuit.Policy.IncludePartitionKeyInMetrics;
    }

    private static List<Measurement<int>> Observe(IEnumerable<ClientCircuits> clients)
    {
        var measurements = new List<Measurement<int>>();
        Span<int> counts = stackalloc int[States.Length];
        foreach (ClientCircuits client in clients)
        {
            counts.Clear();
            foreach (Circuit circuit in client.AllCircuits)
            {
                int index = Array.IndexOf(States, circuit.CurrentPhase.State);
                if (index >= 0)
                {
                    counts[index]++;
                }
            }

            // Every state is reported, zero included, so that a dashboard shows an open count falling back to zero.
            for (int i = 0; i < States.Length; i++)
            {
                measurements.Add(new Measurement<int>(counts[i], new KeyValuePair<string, object?>(ClientTag, client.ClientName), new KeyValuePair<string, object?>(StateTag, FormatState(States[i]))));
            }
        }

        return measurements;
    }
}
