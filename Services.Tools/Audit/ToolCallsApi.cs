using AiAssistant.ServiceDefaults.Access;
using AiAssistant.Services.Tools.Content.Items;

namespace AiAssistant.Services.Tools.Audit;

/// <summary>
/// <c>GET /ai/tool-calls[/:id]</c>, admins only: the audit of tool calls (<see cref="ToolCallTables"/>) read as items,
/// with Directus's query parameters (<c>fields</c>, <c>filter</c>, <c>sort</c>, <c>limit</c>, <c>offset</c>,
/// <c>page</c>, <c>meta</c>, <c>aggregate</c>, …). Read-only: the rows are written by <see cref="ToolCallAudit"/> alone.
/// </summary>
public static class ToolCallsApi
{
    public static IEndpointRouteBuilder MapToolCallsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/ai/tool-calls").AddEndpointFilter((context, next) =>
        {
            context.HttpContext.RequireAdmin();
            return next(context);
        });
        group.MapGet("", ([AsParameters] ItemsRequest r) => ItemsApi.ReadManyAsync(ToolCallTables.ToolCalls, r)).WithName("ReadToolCalls");
        group.MapGet("/{id}", (string id, [AsParameters] ItemsRequest r) => ItemsApi.ReadOneAsync(ToolCallTables.ToolCalls, id, r)).WithName("ReadToolCall");
        return app;
    }
}

public static class ToolCallAuditExtensions
{
    /// <summary>The <c>ai_tool_calls</c> table and its one writer, which is also the <see cref="IToolCallAudit"/> tool calls report to.</summary>
    public static WebApplicationBuilder AddToolCallAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AiAssistant.ServiceDefaults.Data.IDatabaseSchema, ToolCallTables>();
        builder.Services.AddSingleton<ToolCallAudit>();
        builder.Services.AddSingleton<IToolCallAudit>(sp => sp.GetRequiredService<ToolCallAudit>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ToolCallAudit>());
        return builder;
    }
}
