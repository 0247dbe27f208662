using Grpc.Core;
using Grpc.Core.Interceptors;

namespace AiAssistant.ServiceDefaults.Grpc;

/// <summary>
/// The client side of <see cref="ServiceCredentialInterceptor"/>: every call carries the service credential, and a
/// call whose caller set no deadline gets the client's default one, so no internal call can wait forever. A unary
/// call cancelled through the caller's token throws <see cref="OperationCanceledException"/>, as any .NET call does
/// (gRPC's own <c>ThrowOperationCanceledOnCancellation</c> would turn DeadlineExceeded into one too).
/// </summary>
public sealed class ServiceCredentialClientInterceptor : Interceptor
{
    private readonly string _authorization;
    private readonly TimeSpan _deadline;

    public ServiceCredentialClientInterceptor(string? token, TimeSpan deadline)
    {
        if (string.IsNullOrEmpty(token))
            throw new SettingException("Missing setting Internal:Token (environment Internal__Token), the service credential.");
        _authorization = "Bearer " + token;
        _deadline = deadline;
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        BlockingUnaryCallContinuation<TRequest, TResponse> continuation) => continuation(request, Internal(context));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        var call = continuation(request, Internal(context));
        return new AsyncUnaryCall<TResponse>(CancelledAsOperationCanceled(call.ResponseAsync, context.Options.CancellationToken),
            call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, Internal(context));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(Internal(context));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(Internal(context));

    private ClientInterceptorContext<TRequest, TResponse> Internal<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context)
        where TRequest : class where TResponse : class
    {
        // A copy: the caller's Metadata may be reused for other calls.
        var headers = new Metadata();
        if (context.Options.Headers is { } given)
            foreach (var entry in given)
                if (!string.Equals(entry.Key, "authorization", StringComparison.OrdinalIgnoreCase)) headers.Add(entry);
        headers.Add("authorization", _authorization);
        var options = context.Options.WithHeaders(headers);
        if (options.Deadline is null) options = options.WithDeadline(DateTime.UtcNow + _deadline);
        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, options);
    }

    private static async Task<TResponse> CancelledAsOperationCanceled<TResponse>(Task<TResponse> response, CancellationToken ct)
    {
        try
        {
            return await response.ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested)
        {
            throw new OperationCanceledException("The call was cancelled by its caller.", e, ct);
        }
    }
}
