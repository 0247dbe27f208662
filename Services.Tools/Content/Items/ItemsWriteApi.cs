using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// <c>POST</c>, <c>PATCH</c> and <c>DELETE</c> on <c>/items</c> in Directus's shapes, each request one transaction
/// (<see cref="ItemsWriter"/>). Creates and updates answer the items written, read back under the caller's read
/// permissions with the request's own query (<c>?fields=</c>); a caller who may write but not read them gets 204, as in
/// Directus. Deletes answer 204.
/// </summary>
public static class ItemsWriteApi
{
    public static RouteGroupBuilder MapItemWrites(this RouteGroupBuilder group)
    {
        group.MapPost("/{collection}", async (string collection, HttpContext context, ItemsWriter writer, ItemsReader reader, SchemaCache schema, PermissionEngine permissions, CancellationToken ct) =>
        {
            var body = await JsonBody.ReadAsync(context.Request, ct);
            var caller = await CallerAsync(context, reader, permissions, ct);
            var items = body is JsonArray list ? list.Select(i => Item(i)).ToList() : [Item(body)];
            var keys = await writer.WriteAsync(caller, async write =>
            {
                var created = new List<JsonNode>();
                foreach (var item in items) created.Add(await write.CreateAsync(collection, item));
                return created;
            }, ct);
            return await ReadBackAsync(context, collection, keys, one: body is not JsonArray, caller, reader, schema, ct);
        }).WithName("CreateItems");

        group.MapPatch("/{collection}", async (string collection, HttpContext context, ItemsWriter writer, ItemsReader reader, SchemaCache schema, PermissionEngine permissions, CancellationToken ct) =>
        {
            var body = await JsonBody.ReadAsync(context.Request, ct);
            var caller = await CallerAsync(context, reader, permissions, ct);
            var table = (await schema.GetAsync(ct)).Collection(collection);
            if (table?.Meta.Singleton == true)
            {
                var key = await writer.WriteAsync(caller, async write => [await write.UpsertSingletonAsync(collection, Item(body))], ct);
                return await ReadBackAsync(context, collection, key, one: true, caller, reader, schema, ct);
            }
            var pk = table?.PrimaryKey ?? throw QueryErrors.ForbiddenCollection(collection);
            if (body is JsonArray batch)
            {
                // a batch: every object names its own item by its primary key
                var items = batch.Select(i => Item(i)).Select(item => (item[pk]?.DeepClone()
                    ?? throw DirectusException.InvalidPayload($"Every item of a batch update needs its primary key \"{pk}\"", pk), item)).ToList();
                var keys = await writer.WriteAsync(caller, write => write.UpdateManyAsync(collection, items), ct);
                return await ReadBackAsync(context, collection, keys, one: false, caller, reader, schema, ct);
            }
            var request = Item(body);
            var data = request["data"] as JsonObject ?? throw DirectusException.InvalidPayload("\"data\" must be an object of the values to write", "data");
            var targets = await TargetsAsync(collection, request, caller, writer, ct);
            var written = await writer.WriteAsync(caller, write => write.UpdateManyAsync(collection, targets.Select(key => (key, data)).ToList()), ct);
            return await ReadBackAsync(context, collection, written, one: false, caller, reader, schema, ct);
        }).WithName("UpdateItems");

        group.MapPatch("/{collection}/{id}", async (string collection, string id, HttpContext context, ItemsWriter writer, ItemsReader reader, SchemaCache schema, PermissionEngine permissions, CancellationToken ct) =>
        {
            var body = Item(await JsonBody.ReadAsync(context.Request, ct));
            var caller = await CallerAsync(context, reader, permissions, ct);
            var keys = await writer.WriteAsync(caller, async write => [await write.UpdateAsync(collection, JsonValue.Create(id), body)], ct);
            return await ReadBackAsync(context, collection, keys, one: true, caller, reader, schema, ct);
        }).WithName("UpdateItem");

        group.MapDelete("/{collection}", async (string collection, HttpContext context, ItemsWriter writer, ItemsReader reader, PermissionEngine permissions, CancellationToken ct) =>
        {
            var body = await JsonBody.ReadAsync(context.Request, ct);
            var caller = await CallerAsync(context, reader, permissions, ct);
            var keys = body is JsonArray list ? Keys(list) : await TargetsAsync(collection, Item(body), caller, writer, ct);
            await writer.WriteAsync(caller, write => write.DeleteAsync(collection, keys), ct);
            return Results.NoContent();
        }).WithName("DeleteItems");

        group.MapDelete("/{collection}/{id}", async (string collection, string id, HttpContext context, ItemsWriter writer, ItemsReader reader, PermissionEngine permissions, CancellationToken ct) =>
        {
            var caller = await CallerAsync(context, reader, permissions, ct);
            await writer.WriteAsync(caller, write => write.DeleteAsync(collection, [JsonValue.Create(id)]), ct);
            return Results.NoContent();
        }).WithName("DeleteItem");
        return group;
    }

    private static JsonObject Item(JsonNode? node) =>
        node as JsonObject ?? throw DirectusException.InvalidPayload("Each item must be a JSON object of field values");

    private static List<JsonNode> Keys(JsonArray keys) =>
        keys.Select(k => k is JsonValue ? k.DeepClone() : throw DirectusException.InvalidPayload("\"keys\" must be a list of primary keys", "keys")).ToList();

    /// <summary>The items a <c>{"keys": […]}</c> or <c>{"query": {…}}</c> body names.</summary>
    private static async Task<IReadOnlyList<JsonNode>> TargetsAsync(string collection, JsonObject request, WriteCaller caller, ItemsWriter writer, CancellationToken ct) =>
        request["keys"] switch
        {
            JsonArray keys => Keys(keys),
            null when request["query"] is JsonObject query => await writer.KeysAsync(collection, QueryParser.Parse((JsonObject)query.DeepClone()), caller, ct),
            _ => throw DirectusException.InvalidPayload("Name the items with \"keys\" (a list of primary keys) or \"query\" (a query object)"),
        };

    private static async Task<WriteCaller> CallerAsync(HttpContext context, ItemsReader reader, PermissionEngine permissions, CancellationToken ct)
    {
        var identity = context.Caller();
        var granted = await permissions.ForAsync(identity, ct);
        var forwarded = context.Request.Headers["X-Forwarded-For"].ToString().Split(',')[0].Trim();
        return new WriteCaller(granted, reader.Context(identity?.UserId, identity?.RoleId, granted.PolicyIds),
            forwarded.Length > 0 ? forwarded : context.Connection.RemoteIpAddress?.ToString(),
            context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null,
            context.Request.Headers.Origin.ToString() is { Length: > 0 } origin ? origin : null);
    }

    private static async Task<IResult> ReadBackAsync(HttpContext context, string collection, IReadOnlyList<JsonNode> keys, bool one,
        WriteCaller caller, ItemsReader reader, SchemaCache schema, CancellationToken ct)
    {
        var pk = (await schema.GetAsync(ct)).Collection(collection)?.PrimaryKey;
        if (pk is null || keys.Count == 0) return one ? Results.NoContent() : Results.Json(new JsonObject { ["data"] = new JsonArray() });
        var query = QueryParser.Parse(context.Request.Query) with
        {
            Filter = new FieldCondition(pk, FilterOperator.In, new JsonArray(keys.Select(k => k.DeepClone()).ToArray())),
            Limit = -1, Offset = null, Page = null,
        };
        try
        {
            var page = await reader.ReadAsync(collection, query, caller.Permissions, caller.Context, ct);
            if (one) return page.Items.FirstOrDefault() is { } item ? Results.Json(new JsonObject { ["data"] = item.DeepClone() }) : Results.NoContent();
            return Results.Json(new JsonObject { ["data"] = page.Items.DeepClone() });
        }
        catch (DirectusException e) when (e.Code == ErrorCodes.Forbidden)
        {
            return Results.NoContent();
        }
    }
}
