using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>What every items handler needs, bound by minimal APIs (<c>[AsParameters]</c>).</summary>
public sealed record ItemsRequest(HttpContext Context, ItemsService Items, ItemsReader Reader, ItemsWriter Writer, SchemaCache Schema,
    PermissionEngine Permissions, CancellationToken Aborted);

/// <summary>
/// <c>GET /items/:collection</c> and <c>GET /items/:collection/:id</c> in Directus's shapes, with the whole query
/// language, under the caller's read permissions (<see cref="PermissionEngine"/>; the Public policy without a token);
/// the writes are <see cref="ItemsWriteApi"/>. System collections have routes of their own (<c>/files</c>,
/// <c>/folders</c>, <c>/ai/tool-calls</c>) built from the same handlers (<see cref="MapCollection"/>); under <c>/items</c>
/// they are 403, as in Directus.
/// </summary>
public static class ItemsApi
{
    public static IEndpointRouteBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/items/{collection}").AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var schema = await http.RequestServices.GetRequiredService<SchemaCache>().GetAsync(http.RequestAborted);
            return schema.Collection(http.GetRouteValue("collection") as string ?? "") is { Meta.System: true }
                ? throw DirectusException.Forbidden() : await next(context);
        });
        group.MapGet("", (string collection, [AsParameters] ItemsRequest r) => ReadManyAsync(collection, r)).WithName("ReadItems");
        group.MapGet("/{id}", (string collection, string id, [AsParameters] ItemsRequest r) => ReadOneAsync(collection, id, r)).WithName("ReadItem");
        group.MapItemWrites();
        return app;
    }

    /// <summary>
    /// The items routes for one fixed <paramref name="collection"/> on <paramref name="group"/> (<c>/folders</c>): reads,
    /// and the writes <paramref name="writes"/> allows (files write their bytes with their own create and delete).
    /// </summary>
    public static RouteGroupBuilder MapCollection(this RouteGroupBuilder group, string collection, bool createAndDelete, string name)
    {
        group.MapGet("", ([AsParameters] ItemsRequest r) => ReadManyAsync(collection, r)).WithName($"Read{name}s");
        group.MapGet("/{id}", (string id, [AsParameters] ItemsRequest r) => ReadOneAsync(collection, id, r)).WithName($"Read{name}");
        group.MapPatch("", ([AsParameters] ItemsRequest r) => ItemsWriteApi.UpdateManyAsync(collection, r)).WithName($"Update{name}s");
        group.MapPatch("/{id}", (string id, [AsParameters] ItemsRequest r) => ItemsWriteApi.UpdateOneAsync(collection, id, r)).WithName($"Update{name}");
        if (!createAndDelete) return group;
        group.MapPost("", ([AsParameters] ItemsRequest r) => ItemsWriteApi.CreateAsync(collection, r)).WithName($"Create{name}s");
        group.MapDelete("", ([AsParameters] ItemsRequest r) => ItemsWriteApi.DeleteManyAsync(collection, r)).WithName($"Delete{name}s");
        group.MapDelete("/{id}", (string id, [AsParameters] ItemsRequest r) => ItemsWriteApi.DeleteOneAsync(collection, id, r)).WithName($"Delete{name}");
        return group;
    }

    public static async Task<IResult> ReadManyAsync(string collection, ItemsRequest r)
    {
        var (access, queryContext) = await AccessAsync(r);
        var query = QueryParser.Parse(r.Context.Request.Query);
        var page = await r.Items.ReadAsync(collection, query, access, queryContext, r.Aborted);
        var singleton = (await r.Schema.GetAsync(r.Aborted)).Collection(collection)?.Meta.Singleton == true && !query.IsAggregate;
        var body = new JsonObject { ["data"] = singleton ? page.Items.FirstOrDefault()?.DeepClone() : page.Items };
        if (page.TotalCount is not null || page.FilterCount is not null)
        {
            var meta = new JsonObject();
            if (page.TotalCount is { } total) meta["total_count"] = total;
            if (page.FilterCount is { } filtered) meta["filter_count"] = filtered;
            body["meta"] = meta;
        }
        return Results.Json(body);
    }

    public static async Task<IResult> ReadOneAsync(string collection, string id, ItemsRequest r) =>
        Results.Json(new JsonObject { ["data"] = await ItemAsync(collection, id, r) });

    /// <summary>
    /// One item by key with the request's own query (<c>fields</c>, …) or <paramref name="query"/>; a missing item is
    /// 403, as one the caller may not see.
    /// </summary>
    public static async Task<JsonNode> ItemAsync(string collection, string id, ItemsRequest r, JsonObject? query = null)
    {
        var (access, queryContext) = await AccessAsync(r);
        var parsed = query is null ? QueryParser.Parse(r.Context.Request.Query) : QueryParser.Parse(query);
        return await r.Items.ReadOneAsync(collection, JsonValue.Create(id), parsed, access, queryContext, r.Aborted);
    }

    /// <summary>The caller's read access and query context (<c>$CURRENT_USER</c>, …).</summary>
    public static async Task<(ICollectionAccess Access, QueryContext Context)> AccessAsync(ItemsRequest r)
    {
        var caller = r.Context.Caller();
        var granted = await r.Permissions.ForAsync(caller, r.Aborted);
        return (granted, r.Reader.Context(caller?.UserId, caller?.RoleId, granted.PolicyIds));
    }
}
