namespace HttpBreaker.ProxySample;

/// <summary>
/// How <see cref="FlakyUpstream"/> responds to <c>GET /data</c>.
/// </summary>
public enum UpstreamMode
{
    /// <summary>Responds 200 with a small JSON document.</summary>
    Healthy,

    /// <summary>Responds 500 with a plain-text body.</summary>
    Failing,

    /// <summary>Responds 503 with <c>Retry-After</c>, as a server that sheds load does.</summary>
    Overloaded,

    /// <summary>Sends no response until the mode changes or the caller gives up.</summary>
    Hanging,
}
