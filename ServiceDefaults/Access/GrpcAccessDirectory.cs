using AiAssistant.Contracts;
using AiAssistant.Contracts.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.ServiceDefaults.Resilience;
using Microsoft.Extensions.Configuration;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>Asks Settings (gRPC <c>Access.ResolveCaller</c>, service credential) who a user or static token is.</summary>
public sealed class GrpcAccessDirectory : IAccessDirectory
{
    public const string Service = "aiassistant.access.v1.Access";
    public const string Method = "ResolveCaller";

    private readonly Lazy<GrpcUnaryClient> _client;
    private readonly GrpcCallOptions _options;

    public GrpcAccessDirectory(IConfiguration configuration)
    {
        _options = new GrpcCallOptions
        {
            Timeout = TimeSpan.FromSeconds(5),
            Headers = new Dictionary<string, string> { ["authorization"] = "Bearer " + configuration["Internal:Token"] },
        };
        // Resolved on first use, so a service without the address still starts and says what is missing when asked.
        _client = new Lazy<GrpcUnaryClient>(() => new GrpcUnaryClient(
            new HttpClient(new RetryOnConnectFailureHandler(GrpcUnaryClient.CreateHandler()))
            {
                BaseAddress = configuration.ServiceUri(ResourceNames.Settings, "grpc"),
                Timeout = Timeout.InfiniteTimeSpan,
            }));
    }

    public Task<UserAccess?> FindUserAsync(string userId, CancellationToken ct) =>
        ResolveAsync(new ResolveCallerRequest { UserId = userId }, ct);

    public Task<UserAccess?> FindByStaticTokenAsync(string tokenSha256, CancellationToken ct) =>
        ResolveAsync(new ResolveCallerRequest { StaticTokenSha256 = tokenSha256 }, ct);

    private async Task<UserAccess?> ResolveAsync(ResolveCallerRequest request, CancellationToken ct)
    {
        ResolveCallerReply reply;
        try
        {
            reply = await _client.Value.CallAsync(Service, Method, request, ResolveCallerReply.Parser, _options, ct);
        }
        catch (InvalidOperationException e)
        {
            throw DirectusException.ServiceUnavailable(ResourceNames.Settings, e.Message.TrimEnd('.'));
        }
        catch (GrpcException e)
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
