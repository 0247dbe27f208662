using AiAssistant.ServiceDefaults.Access;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AiAssistant.ServiceDefaults.Grpc;

/// <summary>
/// The one check of every internal gRPC method: PermissionDenied unless the call carries the service credential
/// (<c>authorization: Bearer {Internal:Token}</c>). Only grpc.health.v1 answers without it, as probes carry none.
/// End users never call these methods; who the end user is travels in the request message (e.g. <c>Caller</c>).
/// </summary>
public sealed class ServiceCredentialInterceptor(BearerTokens tokens) : Interceptor
{
    private const string HealthService = "/grpc.health.v1.Health/";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Require(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Require(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Require(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Require(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Require(ServerCallContext context)
    {
        if (context.Method.StartsWith(HealthService, StringComparison.Ordinal)) return;
        if (!tokens.IsInternal(context.RequestHeaders.GetValue("authorization")))
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{context.Method} is for internal services only."));
    }
}
