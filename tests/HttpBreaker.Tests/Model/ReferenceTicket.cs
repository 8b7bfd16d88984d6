namespace HttpBreaker.Tests.Model;

/// <summary>
/// A request that <see cref="ReferenceCircuit"/> admitted: the generation it was admitted in, whether it is a
/// probe, and when it started.
/// </summary>
/// <param name="Id">A number unique within one circuit, which distinguishes two probes that started at the same moment.</param>
internal readonly record struct ReferenceTicket(long Id, int Generation, bool IsProbe, DateTimeOffset Start);
