namespace AiAssistant.ServiceDefaults.Grpc;

/// <summary>
/// A non-OK gRPC status. Server handlers throw it to answer with that status; <see cref="GrpcUnaryClient"/> throws it
/// for every non-OK result. <see cref="Detail"/> travels as <c>grpc-message</c>, so it must never hold a secret.
/// </summary>
public sealed class GrpcException(GrpcStatusCode statusCode, string detail, Exception? innerException = null)
    : Exception($"gRPC status {statusCode}: {detail}", innerException)
{
    public GrpcStatusCode StatusCode { get; } = statusCode;

    public string Detail { get; } = detail;
}
