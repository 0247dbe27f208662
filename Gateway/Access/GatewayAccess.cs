using AiAssistant.Gateway.Forwarding;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Gateway.Access;

/// <summary>
/// Who gets through the gateway. The walking skeleton knows one person, the admin with the static ADMIN_TOKEN;
/// identity and access (users, roles, JWTs) replace this check. Services verify the token again themselves.
/// With AI_ENABLED=false the <c>/ai</c> routes do not exist, as in the reference.
/// </summary>
public sealed class GatewayAccess(RequestDelegate next, BearerTokens tokens, IConfiguration configuration)
{
    private readonly bool _aiEnabled = !string.Equals(configuration["AI_ENABLED"], "false", StringComparison.OrdinalIgnoreCase);

    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetGatewayRoute();
        if (route is null) return next(context); // health endpoints and the 404 fallback

        if (!_aiEnabled && route.Service == Contracts.ResourceNames.Chat)
            return DirectusError.WriteAsync(context, StatusCodes.Status404NotFound, ErrorCodes.RouteNotFound,
                $"Route {context.Request.Path.Value} doesn't exist.");

        if (context.Request.Path.Equals("/server/ping", StringComparison.OrdinalIgnoreCase)) return next(context);

        tokens.RequireAdmin(context);
        return next(context);
    }
}
