using AiAssistant.Contracts;
using AiAssistant.Contracts.Access;
using AiAssistant.ServiceDefaults.Errors;
using Grpc.Core;
using Grpc.Net.ClientFactory;
using AccessService = AiAssistant.Contracts.Access.Access;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>Asks Settings (gRPC <c>Access.ResolveCaller</c>, service credential) who a user or static token is.</summary>
public sealed class GrpcAccessDirectory(GrpcClientFactory clients) : IAccessDirectory
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    public Task<UserAccess?> FindUserAsync(string userId, CancellationToken ct) =>
        ResolveAsync(new ResolveCallerRequest { UserId = userId }, ct);

    public Task<UserAccess?> FindByStaticTokenAsync(string tokenSha256, CancellationToken ct) =>
        ResolveAsync(new ResolveCallerRequest { StaticTokenSha256 = tokenSha256 }, ct);

    private async Task<UserAccess?> ResolveAsync(ResolveCallerRequest request, CancellationToken ct)
    {
        ResolveCallerReply reply;
        try
        {
            // Created per call (the factory keeps the channel), so a service without the address still starts and
            // says what is missing when asked.
            var client = clients.CreateClient<AccessService.AccessClient>(nameof(AccessService.AccessClient));
            reply = await client.ResolveCallerAsync(request, cancellationToken: ct);
        }
        catch (InvalidOperationException e)
        {
            throw DirectusException.ServiceUnavailable(ResourceNames.Settings, e.Message.TrimEnd('.'));
        }
        catch (RpcException e)
        {
            throw DirectusException.ServiceUnavailable(ResourceNames.Settings, $"Access data unavailable ({e.StatusCode})");
        }
        return reply.Found
            ? new UserAccess(reply.UserId, reply.RoleId.Length > 0 ? reply.RoleId : null, reply.Admin, reply.App, reply.Status)
            : null;
    }

    public static ResolveCallerReply Reply(UserAccess? access) => access is null
        ? new ResolveCallerReply { Found = false }
        : new ResolveCallerReply
        {
            Found = true, UserId = access.Id, RoleId = access.Role ?? "", Admin = access.Admin, App = access.App, Status = access.Status,
        };
}
