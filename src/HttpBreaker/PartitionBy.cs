namespace HttpBreaker;

/// <summary>
/// What a client's requests are split by, each part with a circuit of its own.
/// </summary>
public enum PartitionBy
{
    /// <summary>One circuit for the whole client.</summary>
    Client,

    /// <summary>
    /// One circuit per scheme, host and port of the request URI, so a failing host does not cut off the others.
    /// </summary>
    Authority,
}
