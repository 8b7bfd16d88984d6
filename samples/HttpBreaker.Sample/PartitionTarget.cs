using System.Globalization;

namespace HttpBreaker.Sample;

/// <summary>
/// One upstream of the partitions scenario, with the label the run prints for it and the key of its circuit.
/// </summary>
/// <param name="Label">The short name printed on each line, such as "A".</param>
/// <param name="Upstream">The server on 127.0.0.1 that the requests go to.</param>
internal sealed record PartitionTarget(string Label, FlakyUpstream Upstream)
{
    public Uri Address => Upstream.Address;

    /// <summary>
    /// The key that <see cref="PartitionBy.Authority"/> gives requests to this upstream: scheme, host and port, with
    /// the port always written out, such as <c>http://127.0.0.1:41234</c>.
    /// </summary>
    public string PartitionKey => string.Create(
        CultureInfo.InvariantCulture,
        $"{Address.Scheme}://{Address.IdnHost}:{Address.Port}");
}
