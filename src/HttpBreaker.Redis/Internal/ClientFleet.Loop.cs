using HttpBreaker.Internal;
using StackExchange.Redis;

namespace HttpBreaker.Redis.Internal;

/// <summary>
/// The background loop of <see cref="ClientFleet"/>: it runs the queued commands against Redis one at a time and
/// applies the shared state each returns to the local circuit.
/// </summary>
internal sealed partial class ClientFleet
{
    private async Task RunAsync()
    {
        try
        {
            await foreach (FleetCommand command in _commands.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    // A command may wait up to the Redis timeouts for a server that stopped replying. Disposal stops
                    // waiting for it, and the abandoned command ends when Redis replies or its timeout expires.
                    await ExecuteAsync(command).WaitAsync(_stopping.Token).ConfigureAwait(false);
                    OnSucceeded();
                }
                catch (Exception exception)
                {
                    // Every failure stays here, so the circuits keep deciding locally and no caller sees a Redis
                    // error. A failure while the service provider is disposed is no outage and is not reported.
                    if (!_stopping.IsCancellationRequested)
                    {
                        OnFailed(command, exception);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task ExecuteAsync(FleetCommand command)
    {
        IConnectionMultiplexer multiplexer = await _connection.GetMultiplexerAsync().ConfigureAwait(false);
        IDatabase database = multiplexer.GetDatabase();
        string name = command.CircuitName;

        switch (command.Kind)
        {
            case FleetCommandKind.RefreshAll:
                await RefreshAllAsync(multiplexer, database).ConfigureAwait(false);
                break;

            case FleetCommandKind.Refresh:
                Apply(name, await FleetScripts.ReadAsync(database, _scope, name).ConfigureAwait(false));
                break;

            case FleetCommandKind.Trip when Find(name) is { } circuit:
                FleetState tripped = await FleetScripts.TripAsync(database, _scope, name, circuit.Policy.SamplingDuration, command.Break).ConfigureAwait(false);
                Log.TripReported(_logger, _clientName, name, tripped.Outcome, _scope.Quorum);
                Apply(name, tripped);
                break;

            case FleetCommandKind.AcquireProbe:
                await AcquireProbeAsync(database, name).ConfigureAwait(false);
                break;

            case FleetCommandKind.ProbeSucceeded or FleetCommandKind.ProbeFailed:
                bool succeeded = command.Kind == FleetCommandKind.ProbeSucceeded;
                FleetState reported = await FleetScripts.ReportProbeAsync(database, _scope, name, succeeded, command.Break).ConfigureAwait(false);
                Track(name).HoldsLease = false;
                Apply(name, reported);
                break;

            case FleetCommandKind.Isolate or FleetCommandKind.Reset:
                await SetManualAsync(database, name, command.Kind == FleetCommandKind.Isolate).ConfigureAwait(false);
                break;
        }
    }

    private async Task RefreshAllAsync(IConnectionMultiplexer multiplexer, IDatabase database)
    {
        Volatile.Write(ref _refreshQueued, 0);
        if (Volatile.Read(ref _client) is not { } client)
        {
            return;
        }

        // The Redis client renews the subscription after a reconnection; this only covers a first attempt that failed.
        if (!_subscribed)
        {
            await multiplexer.GetSubscriber().SubscribeAsync(_scope.Channel, OnMessage).ConfigureAwait(false);
            _subscribed = true;
        }

        // A manual change made while Redis was down is sent before reading, so the read cannot undo it.
        foreach ((string unsentName, bool isolate) in _unsentManual)
        {
            await SetManualAsync(database, unsentName, isolate).ConfigureAwait(false);
            _unsentManual.TryRemove(unsentName, out _);
        }

        Circuit[] circuits = [.. client.AllCircuits];
        FleetState[] states = await Task.WhenAll(circuits.Select(circuit => FleetScripts.ReadAsync(database, _scope, circuit.Name))).ConfigureAwait(false);
        for (int i = 0; i < circuits.Length; i++)
        {
            Apply(circuits[i].Name, states[i]);
        }
    }

    private async Task AcquireProbeAsync(IDatabase database, string name)
    {
        FleetCircuit tracked = Track(name);
        try
        {
            if (Find(name) is not { } circuit)
            {
                return;
            }

            FleetState state = await FleetScripts.AcquireProbeAsync(database, _scope, name, circuit.Policy.ProbeTimeout).ConfigureAwait(false);
            if (state.Outcome == "won")
            {
                tracked.HoldsLease = true;
                Apply(name, state);
                if (circuit.CurrentPhase is OpenPhase open && RunApplying(() => circuit.TryApplyHalfOpen(open)))
                {
                    Log.ProbeLeaseWon(_logger, _clientName, name, circuit.Policy.ProbeTimeout);
                }

                return;
            }

            Apply(name, state);
        }
        finally
        {
            tracked.FinishAcquiring();
        }
    }

    private async Task SetManualAsync(IDatabase database, string name, bool isolate)
    {
        FleetState state = await FleetScripts.SetManualAsync(database, _scope, name, isolate).ConfigureAwait(false);
        FleetCircuit tracked = Track(name);
        tracked.RemovePendingManual();
        Apply(name, state, manualResult: true);
    }

    private void OnSucceeded()
    {
        if (Interlocked.Exchange(ref _outage, 0) == 1)
        {
            Log.StoreAvailable(_logger, _clientName);
            QueueRefreshAll();
        }
    }

    private void OnFailed(FleetCommand command, Exception exception)
    {
        _metrics.AddFailure(_clientName, command.Kind.ToString());
        if (Interlocked.Exchange(ref _outage, 1) == 0)
        {
            string circuitName = command.CircuitName.Length == 0 ? _clientName : command.CircuitName;
            Log.StoreUnavailable(_logger, exception, _clientName, circuitName, command.Kind.ToString());
        }

        // NOTE: a failed trip or probe result is dropped, not sent after the outage, so it counted only locally.
        if (command.Kind == FleetCommandKind.RefreshAll)
        {
            Volatile.Write(ref _refreshQueued, 0);
        }
        else if (command.Kind is FleetCommandKind.Isolate or FleetCommandKind.Reset)
        {
            // The change stays pending until Redis is back, so reads cannot undo it locally. A later failed change
            // of the same circuit replaces it, and then one of the two pending marks is dropped.
            if (!_unsentManual.TryAdd(command.CircuitName, command.Kind == FleetCommandKind.Isolate))
            {
                _unsentManual[command.CircuitName] = command.Kind == FleetCommandKind.Isolate;
                Track(command.CircuitName).RemovePendingManual();
            }
        }
    }

    /// <summary>
    /// Brings the local circuit in line with the shared state. A shared open circuit moves the local break to end when
    /// the shared one does. A shared close applies only with a newer version than the last one seen. So neither a
    /// first read nor the empty state of a Redis that lost its data closes a circuit that opened locally.
    /// </summary>
    private void Apply(string name, FleetState state, bool manualResult = false)
    {
        if (Find(name) is not { } circuit)
        {
            return;
        }

        FleetCircuit tracked = Track(name);
        if (tracked.HasPendingManual && !manualResult)
        {
            return;
        }

        long? previous = tracked.KnownVersion;
        tracked.KnownVersion = state.Version;
        tracked.KnownState = state.State;
        // NOTE: a read between the expiry of this instance's lease and its probe's timeout also ends the half-open
        // phase here, so that timeout is never reported and the fleet does not back off for it.
        if (state.LeaseOwner != _scope.InstanceId)
        {
            tracked.HoldsLease = false;
        }

        CircuitState local = circuit.CurrentPhase.State;
        switch (state.State)
        {
            case FleetState.Closed when previous is { } seen && state.Version > seen && local != CircuitState.Closed:
                RunApplying(() => circuit.ApplyClosed(state.Reason));
                Log.FleetClosed(_logger, _clientName, name, state.Reason);
                break;

            case FleetState.Isolated when local != CircuitState.Isolated:
                RunApplying(circuit.Isolate);
                Log.FleetIsolated(_logger, _clientName, name);
                break;

            case FleetState.Open:
                ApplyOpen(circuit, state, local, tracked.HoldsLease);
                break;
        }
    }

    private void ApplyOpen(Circuit circuit, FleetState state, CircuitState local, bool holdsLease)
    {
        TimeSpan remaining;
        if (state.Remaining > TimeSpan.Zero)
        {
            remaining = state.Remaining;
        }
        else if (state.LeaseOwner == _scope.InstanceId && holdsLease)
        {
            // This instance probes for the fleet; its local circuit reports the result. The lease may also carry this
            // id from a former process under the same InstanceId, which probes no more, so this one waits like any other.
            return;
        }
        else if (state.LeaseOwner is not null)
        {
            // Another instance probes. This one waits until the result is published, or until the lease expires
            // and it may compete for the probe again.
            remaining = state.LeaseRemaining;
        }
        else if (circuit.CurrentPhase is OpenPhase open && open.ProbeAtTimestamp <= _timeProvider.GetTimestamp())
        {
            // Already waiting for its next request to compete for the lease.
            return;
        }
        else
        {
            remaining = TimeSpan.Zero;
        }

        RunApplying(() => circuit.ApplyOpen(state.OpenedAgo, remaining, state.ConsecutiveFailures, state.BaseBreak, state.Reason));
        if (local != CircuitState.Open && circuit.CurrentPhase.State == CircuitState.Open)
        {
            Log.FleetOpened(_logger, _clientName, circuit.Name, state.Reason, remaining);
        }
    }

    private static void RunApplying(Action apply)
    {
        _applying = true;
        try
        {
            apply();
        }
        finally
        {
            _applying = false;
        }
    }

    private static bool RunApplying(Func<bool> apply)
    {
        _applying = true;
        try
        {
            return apply();
        }
        finally
        {
            _applying = false;
        }
    }
}
