using Microsoft.AspNetCore.Http;

namespace AiAssistant.ServiceDefaults.Grpc;

/// <summary>What a unary handler knows about its call besides the request message (constructible for handler unit tests).</summary>
public sealed class GrpcCallContext
{
    public GrpcCallContext(HttpContext httpContext, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        HttpContext = httpContext;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    public HttpContext HttpContext { get; }

    /// <summary>From the caller's <c>grpc-timeout</c>; null when the caller set none.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Fires when the deadline passes or the caller goes away.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The request metadata (HTTP/2 headers, lower-case names), e.g. <c>authorization</c>.</summary>
    public IHeaderDictionary RequestHeaders => HttpContext.Request.Headers;
}
