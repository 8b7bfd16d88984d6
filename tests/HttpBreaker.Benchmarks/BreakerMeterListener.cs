using System.Diagnostics.Metrics;

namespace HttpBreaker.Benchmarks;

/// <summary>
/// A metrics listener that enables every instrument of the <c>HttpBreaker</c> meter, whatever instruments it
/// publishes, and counts their measurements the way a minimal exporter would see them.
/// </summary>
/// <remarks>
/// The count is kept per thread, so the listener adds no contended counter of its own to multi-caller runs.
/// </remarks>
internal sealed class BreakerMeterListener : IDisposable
{
    public const string MeterName = "HttpBreaker";

    [ThreadStatic]
    private static long t_measurements;

    private readonly MeterListener _listener = new();
    private int _instruments;

    public BreakerMeterListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName)
            {
                Interlocked.Increment(ref _instruments);
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<byte>(static (_, _, _, _) => t_measurements++);
        _listener.SetMeasurementEventCallback<short>(static (_, _, _, _) => t_measurements++);
        _listener.SetMeasurementEventCallback<int>(static (_, _, _, _) => t_measurements++);
        _listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => t_measurements++);
        _listener.SetMeasurementEventCallback<float>(static (_, _, _, _) => t_measurements++);
        _listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => t_measurements++);
        _listener.SetMeasurementEventCallback<decimal>(static (_, _, _, _) => t_measurements++);
        _listener.Start();
    }

    /// <summary>Gets the number of <c>HttpBreaker</c> instruments published since the listener started.</summary>
    public int InstrumentCount => Volatile.Read(ref _instruments);

    /// <summary>Gets the number of measurements recorded on the calling thread.</summary>
    public static long MeasurementsOnThisThread => t_measurements;

    public void Dispose() => _listener.Dispose();
}
