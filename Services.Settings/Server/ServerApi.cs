using AiAssistant.ServiceDefaults.Access;
using AiAssistant.Services.Settings.Settings;

namespace AiAssistant.Services.Settings.Server;

/// <summary><c>/server</c>: ping for anyone, info for signed-in users.</summary>
public static class ServerApi
{
    public static IEndpointRouteBuilder MapServerApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/server");
        group.MapGet("/ping", () => TypedResults.Text("pong")).WithName("Ping");
        group.MapGet("/info", async (HttpContext context, IConfiguration configuration, AiSettingsStore store, CancellationToken ct) =>
        {
            context.RequireUser(); // every signed-in user, app access or not, as in the reference
            var aiEnabled = !string.Equals(configuration["AI_ENABLED"], "false", StringComparison.OrdinalIgnoreCase);
            var (providers, mcpEnabled) = await store.ServerInfoAsync(ct);
            return TypedResults.Json(new { data = new { ai_enabled = aiEnabled, ai_providers = providers, mcp_enabled = mcpEnabled } });
        }).WithName("ServerInfo");
        return app;
    }
}
