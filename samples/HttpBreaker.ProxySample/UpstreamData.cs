namespace HttpBreaker.ProxySample;

/// <summary>
/// The JSON document that <see cref="FlakyUpstream"/> returns while healthy.
/// </summary>
/// <param name="Source">The name of the upstream.</param>
/// <param name="Request">The number of data requests the upstream had received, this one included.</param>
public sealed record UpstreamData(string Source, int Request);
