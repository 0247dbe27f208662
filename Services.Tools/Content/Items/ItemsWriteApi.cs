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
        group.MapPost("", (string collection, [AsParameters] ItemsRequest r) => CreateAsync(collection, r)).WithName("CreateItems");
        group.MapPatch("", (string collection, [AsParameters] ItemsRequest r) => UpdateManyAsync(collection, r)).WithName("UpdateItems");
        group.MapPatch("/{id}", (string collection, string id, [AsParameters] ItemsRequest r) => UpdateOneAsync(collection, id, r)).WithName("UpdateItem");
        group.MapDelete("", (string collection, [AsParameters] ItemsRequest r) => DeleteManyAsync(collection, r)).WithName("DeleteItems");
        group.MapDelete("/{id}", (string collection, string id, [AsParameters] ItemsRequest r) => DeleteOneAsync(collection, id, r)).WithName("DeleteItem");
        return group;
    }

    public static async Task<IResult> CreateAsync(string collection, ItemsRequest r)
    {
        var body = await JsonBody.ReadAsync(r.Context.Request, r.Aborted);
        var caller = await CallerAsync(r);
        var items = body is JsonArray list ? list.Select(i => Item(i)).ToList() : [Item(body)];
        var keys = await r.Writer.WriteAsync(caller, async write =>
        {
            var created = new List<JsonNode>();
            foreach (var item in items) created.Add(await write.CreateAsync(collection, item));
            return created;
        }, r.Aborted);
        return await ReadBackAsync(collection, keys, one: body is not JsonArray, caller, r);
    }

    public static async Task<IResult> UpdateManyAsync(string collection, ItemsRequest r)
    {
        var body = await JsonBody.ReadAsync(r.Context.Request, r.Aborted);
        var caller = await CallerAsync(r);
        var table = (await r.Schema.GetAsync(r.Aborted)).Collection(collection);
        if (table?.Meta.Singleton == true)
        {
            var key = await r.Writer.WriteAsync(caller, async write => [await write.UpsertSingletonAsync(collection, Item(body))], r.Aborted);
            return await ReadBackAsync(collection, key, one: true, caller, r);
        }
        var pk = table?.PrimaryKey ?? throw QueryErrors.ForbiddenCollection(collection);
        if (body is JsonArray batch)
        {
            // a batch: every object names its own item by its primary key
            var items = batch.Select(i => Item(i)).Select(item => (item[pk]?.DeepClone()
                ?? throw DirectusException.InvalidPayload($"Every item of a batch update needs its primary key \"{pk}\"", pk), item)).ToList();
            var keys = await r.Writer.WriteAsync(caller, write => write.UpdateManyAsync(collection, items), r.Aborted);
            return await ReadBackAsync(collection, keys, one: false, caller, r);
        }
        var request = Item(body);
        var data = request["data"] as JsonObject ?? throw DirectusException.InvalidPayload("\"data\" must be an object of the values to write", "data");
        var targets = await TargetsAsync(collection, request, caller, r.Writer, r.Aborted);
        var written = await r.Writer.WriteAsync(caller, write => write.UpdateManyAsync(collection, targets.Select(key => (key, data)).ToList()), r.Aborted);
        return await ReadBackAsync(collection, written, one: false, caller, r);
    }

    public static async Task<IResult> UpdateOneAsync(string collection, string id, ItemsRequest r)
    {
        var body = Item(await JsonBody.ReadAsync(r.Context.Request, r.Aborted));
        var caller = await CallerAsync(r);
        var keys = await r.Writer.WriteAsync(caller, async write => [await write.UpdateAsync(collection, JsonValue.Create(id), body)], r.Aborted);
        return await ReadBackAsync(collection, keys, one: true, caller, r);
    }

    public static async Task<IResult> DeleteManyAsync(string collection, ItemsRequest r)
    {
        var caller = await CallerAsync(r);
        var keys = await DeleteTargetsAsync(collection, caller, r);
        await r.Writer.WriteAsync(caller, write => write.DeleteAsync(collection, keys), r.Aborted);
        return Results.NoContent();
    }

    public static async Task<IResult> DeleteOneAsync(string collection, string id, ItemsRequest r)
    {
        await r.Writer.WriteAsync(await CallerAsync(r), write => write.DeleteAsync(collection, [JsonValue.Create(id)]), r.Aborted);
        return Results.NoContent();
    }

    /// <summary>The keys a delete's body names: a list of keys, <c>{"keys": […]}</c> or <c>{"query": {…}}</c>.</summary>
    public static async Task<IReadOnlyList<JsonNode>> DeleteTargetsAsync(string collection, WriteCaller caller, ItemsRequest r)
    {
        var body = await JsonBody.ReadAsync(r.Context.Request, r.Aborted);
        return body is JsonArray list ? Keys(list) : await TargetsAsync(collection, Item(body), caller, r.Writer, r.Aborted);
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

    /// <summary>Who writes: the caller's permissions and context, and where the request came from (for the activity rows).</summary>
    public static async Task<WriteCaller> CallerAsync(ItemsRequest r)
    {
        var (context, reader) = (r.Context, r.Reader);
        var identity = context.Caller();
        var granted = await r.Permissions.ForAsync(identity, r.Aborted);
        var forwarded = context.Request.Headers["X-Forwarded-For"].ToString().Split(',')[0].Trim();
        return new WriteCaller(granted, reader.Context(identity?.UserId, identity?.RoleId, granted.PolicyIds),
            forwarded.Length > 0 ? forwarded : context.Connection.RemoteIpAddress?.ToString(),
            context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null,
            context.Request.Headers.Origin.ToString() is { Length: > 0 } origin ? origin : null);
    }

    /// <summary>The items written, read back under the caller's read grant with the request's query; 204 when they may not be read.</summary>
    public static async Task<IResult> ReadBackAsync(string collection, IReadOnlyList<JsonNode> keys, bool one, WriteCaller caller, ItemsRequest r)
    {
        var (context, reader, ct) = (r.Context, r.Reader, r.Aborted);
        var pk = (await r.Schema.GetAsync(ct)).Collection(collection)?.PrimaryKey;
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
