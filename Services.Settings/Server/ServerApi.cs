using AiAssistant.ServiceDefaults.Access;

namespace AiAssistant.Services.Settings.Server;

/// <summary><c>/server</c>: ping for anyone, info for signed-in users.</summary>
public static class ServerApi
{
    public static IEndpointRouteBuilder MapServerApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/server");
        group.MapGet("/ping", () => TypedResults.Text("pong")).WithName("Ping");
        group.MapGet("/info", (HttpContext context, BearerTokens tokens, IConfiguration configuration) =>
        {
            tokens.RequireAdmin(context);
            var aiEnabled = !string.Equals(configuration["AI_ENABLED"], "false", StringComparison.OrdinalIgnoreCase);
            return TypedResults.Json(new { data = new { ai_enabled = aiEnabled, mcp_enabled = false } });
        }).WithName("ServerInfo");
        return app;
    }
}
