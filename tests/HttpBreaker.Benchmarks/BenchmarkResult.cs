namespace HttpBreaker.Benchmarks;

/// <summary>One case of an exported run: the per-request median in nanoseconds and the bytes allocated per request.</summary>
internal sealed record BenchmarkResult(string Method, int Callers, double MedianNanoseconds, long AllocatedBytes);
