namespace HttpBreaker.Benchmarks;

/// <summary>
/// A delegating handler that adds nothing: the cost of one more handler in the pipeline, which a closed breaker
/// should not exceed.
/// </summary>
internal sealed class PassThroughHandler : DelegatingHandler
{
}
