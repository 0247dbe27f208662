using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using Yarp.ReverseProxy.Model;

namespace AiAssistant.Gateway.Access;

/// <summary>
/// Who gets through the gateway, first step of the proxy pipeline. A token that is bad, expired or whose user is not
/// active is a 401 here (cached; see <see cref="CallerResolver"/>). A request without a token goes on as the Public
/// policy, as in the reference: each service answers 403 <c>FORBIDDEN</c> where Public has no grant and serves what it
/// has (content reads and writes under the Public policy's permissions). The Authorization header travels on unchanged
/// and every service verifies it again itself. With AI_ENABLED=false the routes to chat do not exist, as in the reference.
/// </summary>
public sealed class GatewayAccess(RequestDelegate next, CallerResolver callers, IConfiguration configuration)
{
    /// <summary>Open without a token; logout needs only its refresh token, which may outlive the access token.</summary>
    public static readonly string[] OpenPaths = ["/auth/login", "/auth/refresh", "/auth/logout", "/server/ping"];

    private readonly bool _aiEnabled = !string.Equals(configuration["AI_ENABLED"], "false", StringComparison.OrdinalIgnoreCase);

    public async Task InvokeAsync(HttpContext context)
    {
        if (!_aiEnabled && context.GetReverseProxyFeature().Cluster.Config.ClusterId == Contracts.ResourceNames.Chat)
        {
            await DirectusError.WriteAsync(context, StatusCodes.Status404NotFound, ErrorCodes.RouteNotFound,
                $"Route {context.Request.Path.Value} doesn't exist.");
            return;
        }

        var path = context.Request.Path;
        if (!OpenPaths.Any(open => path.Equals(open, StringComparison.OrdinalIgnoreCase)))
            await callers.AuthenticateAsync(context); // null: no token, the Public policy
        await next(context);
    }
}
