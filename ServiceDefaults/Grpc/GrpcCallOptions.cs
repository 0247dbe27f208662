namespace AiAssistant.ServiceDefaults.Grpc;

/// <summary>Per-call options of <see cref="GrpcUnaryClient"/>. When both are set, the earlier deadline wins.</summary>
public sealed class GrpcCallOptions
{
    public TimeSpan? Timeout { get; init; }

    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Request metadata, e.g. <c>authorization</c>. ASCII values only (no <c>-bin</c> headers).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
