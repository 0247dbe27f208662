using AiAssistant.Contracts.Access;
using AiAssistant.ServiceDefaults.Access;
using Grpc.Core;

namespace AiAssistant.Services.Settings.Access;

/// <summary>gRPC <c>Access.ResolveCaller</c>: who a user or a static token's owner is, for services with the credential.</summary>
public sealed class AccessGrpc(AccessStore store) : Contracts.Access.Access.AccessBase
{
    public override async Task<ResolveCallerReply> ResolveCaller(ResolveCallerRequest request, ServerCallContext context)
    {
        var access = request.KeyCase switch
        {
            ResolveCallerRequest.KeyOneofCase.UserId => await store.FindUserAsync(request.UserId, context.CancellationToken),
            ResolveCallerRequest.KeyOneofCase.StaticTokenSha256 => await store.FindByStaticTokenAsync(request.StaticTokenSha256, context.CancellationToken),
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "Send user_id or static_token_sha256.")),
        };
        return GrpcAccessDirectory.Reply(access);
    }

    public override async Task<GetPermissionsReply> GetPermissions(GetPermissionsRequest request, ServerCallContext context)
    {
        Guid? user = null;
        if (request.UserId.Length > 0)
            user = Guid.TryParse(request.UserId, out var id) ? id : throw new RpcException(new Status(StatusCode.InvalidArgument, "user_id is not a UUID."));
        return await store.PermissionsAsync(user, context.CancellationToken);
    }
}
