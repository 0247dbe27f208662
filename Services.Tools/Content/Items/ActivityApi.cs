using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.Services.Tools.Content.Query;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// <c>GET /activity</c> and <c>GET /revisions</c> in Directus's <c>{"data": […]}</c> shape, admins only for now; the
/// tables are read as collections (<see cref="ActivityTables.Snapshot"/>), so <c>filter</c>, <c>sort</c>,
/// <c>limit</c> and <c>fields</c> work as on items (<c>fields=activity.user</c> on revisions included).
/// </summary>
public static class ActivityApi
{
    public static IEndpointRouteBuilder MapActivityApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/activity", (HttpContext context, ItemsReader reader, CancellationToken ct) => ReadAsync(ActivityTables.Activity, context, reader, ct))
            .WithName("ReadActivity");
        app.MapGet("/revisions", (HttpContext context, ItemsReader reader, CancellationToken ct) => ReadAsync(ActivityTables.Revisions, context, reader, ct))
            .WithName("ReadRevisions");
        return app;
    }

    private static async Task<IResult> ReadAsync(string table, HttpContext context, ItemsReader reader, CancellationToken ct)
    {
        var admin = context.RequireAdmin();
        var page = await reader.ReadAsync(ActivityTables.Snapshot, table, QueryParser.Parse(context.Request.Query), FullAccess.Instance,
            reader.Context(admin.UserId, admin.RoleId, []), null, ct);
        return Results.Json(new JsonObject { ["data"] = page.Items });
    }
}
