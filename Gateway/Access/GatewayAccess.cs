using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using Yarp.ReverseProxy.Model;

namespace AiAssistant.Gateway.Access;

/// <summary>
/// Who gets through the gateway, first step of the proxy pipeline: everyone to the sign-in routes and
/// <c>/server/ping</c>, otherwise only a caller whose JWT or static token resolves to an active user (cached; see
/// <see cref="CallerResolver"/>). The Authorization header travels on unchanged and every service verifies it again
/// itself. With AI_ENABLED=false the routes to chat do not exist, as in the reference.
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
        {
            if (await callers.AuthenticateAsync(context) is null)
                throw DirectusException.Unauthenticated("No access token was sent. Send 'Authorization: Bearer <token>'.");
        }
        await next(context);
    }
}
