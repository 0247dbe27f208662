using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.Mcp;

/// <summary>What one HTTP request to <c>/mcp</c> is: who calls, the MCP settings of the moment, and the tool mode.</summary>
public sealed record McpRequest(CallerIdentity Caller, McpConfig Config, bool RegistryMode)
{
    /// <summary>The registry's scope for an MCP call: every tool (no approvals: the MCP client asks its user), the delete guard, the system prompt.</summary>
    public ToolScope Scope => new(ToolSurface.Mcp, Names: null, ToolScope.NoApprovals, AllowDeletes: Config.AllowDeletes,
        SystemPromptEnabled: Config.SystemPromptEnabled, SystemPrompt: Config.SystemPrompt.Length > 0 ? Config.SystemPrompt : null);
}

/// <summary>
/// The MCP server at <c>/mcp</c>, as the reference's: ModelContextProtocol.AspNetCore's streamable HTTP transport,
/// stateless (every POST stands alone, any replica answers). Before the SDK sees a request, <see cref="Gate"/> answers
/// 403 "MCP must be enabled" unless <c>mcp_enabled</c>, then 403 without a signed-in caller; whoever the Bearer token
/// names calls with their own permissions (no app-access requirement). Tools come from the same registry as chat
/// (<see cref="McpTools"/>), prompts from the prompts collection (<see cref="McpPrompts"/>), both per request.
/// </summary>
public static class McpEndpoint
{
    public const string Path = "/mcp";
    private const string RequestKey = "aiassistant.mcp";

    public static WebApplicationBuilder AddMcp(this WebApplicationBuilder builder)
    {
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<McpTools>();
        builder.Services.AddSingleton<McpPrompts>();
        builder.Services
            .AddMcpServer(o => o.ServerInfo = new() { Name = "AiAssistant", Version = "1.0.0" })
            .WithHttpTransport(o => o.Stateless = true)
            .WithListToolsHandler((r, ct) => r.Services!.GetRequiredService<McpTools>().ListAsync(Current(r.Services!), ct))
            .WithCallToolHandler((r, ct) => r.Services!.GetRequiredService<McpTools>().CallAsync(Current(r.Services!), r.Params!, ct))
            .WithListPromptsHandler((r, ct) => r.Services!.GetRequiredService<McpPrompts>().ListAsync(Current(r.Services!), ct))
            .WithGetPromptHandler((r, ct) => r.Services!.GetRequiredService<McpPrompts>().GetAsync(Current(r.Services!), r.Params!, ct));
        return builder;
    }

    public static IEndpointRouteBuilder MapMcpEndpoint(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(Path), branch => branch.Use(Gate));
        app.MapMcp(Path);
        return app;
    }

    /// <summary>Settings first (as the reference: disabled is 403 for everyone), then the caller, then <c>?tool_mode</c>.</summary>
    private static async Task Gate(HttpContext context, RequestDelegate next)
    {
        var config = await context.RequestServices.GetRequiredService<McpSettings>().GetAsync(context.RequestAborted);
        if (!config.Enabled) throw DirectusException.Forbidden("MCP must be enabled");
        var caller = context.RequireUser();
        var mode = context.Request.Query["tool_mode"].ToString();
        if (mode is not ("" or "legacy" or "registry"))
            throw new DirectusException(StatusCodes.Status400BadRequest, ErrorCodes.InvalidQuery,
                "Invalid query. \"tool_mode\" must be \"legacy\" (every tool) or \"registry\" (search, execute and schema).");
        context.Items[RequestKey] = new McpRequest(caller, config, mode == "registry");
        await next(context);
    }

    private static McpRequest Current(IServiceProvider services) =>
        services.GetRequiredService<IHttpContextAccessor>().HttpContext?.Items[RequestKey] as McpRequest
        ?? throw new InvalidOperationException("An MCP request reached its handler without passing the gate.");
}
