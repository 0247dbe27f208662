using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// <c>GET /activity</c> and <c>GET /revisions</c> in Directus's <c>{"data": […]}</c> shape; the tables are read as
/// collections (<see cref="ActivityTables.Snapshot"/>), so <c>filter</c>, <c>sort</c>, <c>limit</c> and <c>fields</c>
/// work as on items (<c>fields=activity.user</c> on revisions included). Admins read everything. A user with app
/// access reads, as Directus's app-access minimum grants, its own activity on collections it may read, and the
/// revisions of its own activity on collections it may read every field of (a revision holds the whole item, so a
/// partial field grant would leak through it). Without app access: 403.
/// </summary>
public static class ActivityApi
{
    public static IEndpointRouteBuilder MapActivityApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/activity", (HttpContext context, ItemsReader reader, SchemaCache schema, IPermissionSource permissions, CancellationToken ct) =>
            ReadAsync(ActivityTables.Activity, context, reader, schema, permissions, ct)).WithName("ReadActivity");
        app.MapGet("/revisions", (HttpContext context, ItemsReader reader, SchemaCache schema, IPermissionSource permissions, CancellationToken ct) =>
            ReadAsync(ActivityTables.Revisions, context, reader, schema, permissions, ct)).WithName("ReadRevisions");
        return app;
    }

    private static async Task<IResult> ReadAsync(string table, HttpContext context, ItemsReader reader, SchemaCache schema,
        IPermissionSource permissions, CancellationToken ct)
    {
        var caller = context.RequireApp();
        var granted = await permissions.ForAsync(caller, ct);
        var access = granted.IsAdmin ? (ICollectionAccess)FullAccess.Instance : OwnHistory(await schema.GetAsync(ct), granted);
        var page = await reader.ReadAsync(ActivityTables.Snapshot, table, QueryParser.Parse(context.Request.Query), access,
            reader.Context(caller.UserId, caller.RoleId, granted.PolicyIds), null, ct);
        return Results.Json(new JsonObject { ["data"] = page.Items });
    }

    /// <summary>The caller's own rows on collections it may read; for revisions, on those it may read whole.</summary>
    private static DelegateAccess OwnHistory(SchemaSnapshot schema, CallerPermissions granted)
    {
        var readable = schema.Collections.Keys.Where(c => granted.Read(c) is not null).ToList();
        var whole = readable.Where(c => granted.Read(c)!.Fields is not { } f || f.Contains("*")).ToList();
        var activity = new CollectionReadAccess(Own(new JsonObject { ["user"] = new JsonObject { ["_eq"] = "$CURRENT_USER" } }, readable));
        var revisions = new CollectionReadAccess(Own(new JsonObject
        {
            ["activity"] = new JsonObject { ["user"] = new JsonObject { ["_eq"] = "$CURRENT_USER" } },
        }, whole));
        return new DelegateAccess(table => table switch
        {
            ActivityTables.Activity => activity,
            ActivityTables.Revisions => revisions,
            _ => null,
        });
    }

    private static Filter Own(JsonObject byUser, IEnumerable<string> collections) => FilterParser.Parse(new JsonObject
    {
        ["_and"] = new JsonArray(byUser, new JsonObject
        {
            ["collection"] = new JsonObject { ["_in"] = new JsonArray(collections.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()) },
        }),
    }, "permissions");
}
