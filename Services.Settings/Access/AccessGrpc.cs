using AiAssistant.Contracts.Access;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Grpc;

namespace AiAssistant.Services.Settings.Access;

/// <summary>gRPC <c>Access.ResolveCaller</c>: who a user or a static token's owner is, for services with the credential.</summary>
public static class AccessGrpc
{
    public static IEndpointRouteBuilder MapAccessGrpc(this IEndpointRouteBuilder app)
    {
        app.MapGrpcUnary<ResolveCallerRequest, ResolveCallerReply>(GrpcAccessDirectory.Service, GrpcAccessDirectory.Method, async (request, call) =>
        {
            BearerTokens.RequireInternal(call);
            var services = call.HttpContext.RequestServices;
            var store = services.GetRequiredService<AccessStore>();
            var access = request.KeyCase switch
            {
                ResolveCallerRequest.KeyOneofCase.UserId => await store.FindUserAsync(request.UserId, call.CancellationToken),
                ResolveCallerRequest.KeyOneofCase.StaticTokenSha256 => await store.FindByStaticTokenAsync(request.StaticTokenSha256, call.CancellationToken),
                _ => throw new GrpcException(GrpcStatusCode.InvalidArgument, "Send user_id or static_token_sha256."),
            };
            return GrpcAccessDirectory.Reply(access);
        });
        return app;
    }
}
