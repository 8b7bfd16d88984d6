using System.Net;

namespace HttpBreaker.Internal;

/// <summary>
/// The synthetic 503 of a circuit. Its type, which no upstream can send, is what identifies it.
/// </summary>
internal sealed class RejectedResponseMessage() : HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
