using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// <c>GET /items/:collection</c> and <c>GET /items/:collection/:id</c> in Directus's shapes, with the whole query
/// language, under the caller's read permissions (<see cref="PermissionEngine"/>; the Public policy without a token);
/// the writes are <see cref="ItemsWriteApi"/>.
/// </summary>
public static class ItemsApi
{
    public static IEndpointRouteBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/items");
        group.MapGet("/{collection}", async (string collection, HttpContext context, ItemsReader reader, SchemaCache schema, PermissionEngine permissions, CancellationToken ct) =>
        {
            var (access, queryContext) = await AccessAsync(context, reader, permissions, ct);
            var query = QueryParser.Parse(context.Request.Query);
            var page = await reader.ReadAsync(collection, query, access, queryContext, ct);
            var singleton = (await schema.GetAsync(ct)).Collection(collection)?.Meta.Singleton == true && !query.IsAggregate;
            var body = new JsonObject { ["data"] = singleton ? page.Items.FirstOrDefault()?.DeepClone() : page.Items };
            if (page.TotalCount is not null || page.FilterCount is not null)
            {
                var meta = new JsonObject();
                if (page.TotalCount is { } total) meta["total_count"] = total;
                if (page.FilterCount is { } filtered) meta["filter_count"] = filtered;
                body["meta"] = meta;
            }
            return Results.Json(body);
        }).WithName("ReadItems");

        group.MapGet("/{collection}/{id}", async (string collection, string id, HttpContext context, ItemsReader reader, SchemaCache schema, PermissionEngine permissions, CancellationToken ct) =>
        {
            var (access, queryContext) = await AccessAsync(context, reader, permissions, ct);
            var key = (await schema.GetAsync(ct)).Collection(collection)?.PrimaryKey ?? throw QueryErrors.ForbiddenCollection(collection);
            var json = QueryStringForm.ToJson(context.Request.Query);
            var byKey = new JsonObject { [key] = new JsonObject { ["_eq"] = id } };
            json["filter"] = json["filter"] is { } given ? new JsonObject { ["_and"] = new JsonArray(given.DeepClone(), byKey) } : byKey;
            var page = await reader.ReadAsync(collection, QueryParser.Parse(json) with { Limit = 1, Offset = null, Page = null }, access, queryContext, ct);
            // Directus answers a missing item as one the caller may not see: no existence leak
            var item = page.Items.FirstOrDefault() ?? throw DirectusException.Forbidden();
            return Results.Json(new JsonObject { ["data"] = item.DeepClone() });
        }).WithName("ReadItem");
        group.MapItemWrites();
        return app;
    }

    private static async Task<(ICollectionAccess Access, QueryContext Context)> AccessAsync(HttpContext context, ItemsReader reader,
        PermissionEngine permissions, CancellationToken ct)
    {
        var caller = context.Caller();
        var granted = await permissions.ForAsync(caller, ct);
        return (granted, reader.Context(caller?.UserId, caller?.RoleId, granted.PolicyIds));
    }
}
