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
        var items = body is JsonArray list ? list.Select(ItemsService.Item).ToList() : [ItemsService.Item(body)];
        var keys = await r.Items.CreateAsync(collection, items, caller, r.Aborted);
        return await ReadBackAsync(collection, keys, one: body is not JsonArray, caller, r);
    }

    public static async Task<IResult> UpdateManyAsync(string collection, ItemsRequest r)
    {
        var body = await JsonBody.ReadAsync(r.Context.Request, r.Aborted);
        var caller = await CallerAsync(r);
        if ((await r.Items.CollectionAsync(collection, r.Aborted)).Meta.Singleton)
            return await ReadBackAsync(collection, await r.Items.UpsertSingletonAsync(collection, ItemsService.Item(body), caller, r.Aborted), one: true, caller, r);
        if (body is JsonArray batch)
            return await ReadBackAsync(collection, await r.Items.UpdateBatchAsync(collection, batch, caller, r.Aborted), one: false, caller, r);
        var request = ItemsService.Item(body);
        var data = request["data"] as JsonObject ?? throw DirectusException.InvalidPayload("\"data\" must be an object of the values to write", "data");
        var targets = await r.Items.TargetsAsync(collection, request, caller, r.Aborted);
        return await ReadBackAsync(collection, await r.Items.UpdateManyAsync(collection, targets, data, caller, r.Aborted), one: false, caller, r);
    }

    public static async Task<IResult> UpdateOneAsync(string collection, string id, ItemsRequest r)
    {
        var body = ItemsService.Item(await JsonBody.ReadAsync(r.Context.Request, r.Aborted));
        var caller = await CallerAsync(r);
        var keys = await r.Items.UpdateManyAsync(collection, [JsonValue.Create(id)], body, caller, r.Aborted);
        return await ReadBackAsync(collection, keys, one: true, caller, r);
    }

    public static async Task<IResult> DeleteManyAsync(string collection, ItemsRequest r)
    {
        var caller = await CallerAsync(r);
        await r.Items.DeleteAsync(collection, await DeleteTargetsAsync(collection, caller, r), caller, r.Aborted);
        return Results.NoContent();
    }

    public static async Task<IResult> DeleteOneAsync(string collection, string id, ItemsRequest r)
    {
        await r.Items.DeleteAsync(collection, [JsonValue.Create(id)], await CallerAsync(r), r.Aborted);
        return Results.NoContent();
    }

    /// <summary>The keys a delete's body names: a list of keys, <c>{"keys": […]}</c> or <c>{"query": {…}}</c>.</summary>
    public static async Task<IReadOnlyList<JsonNode>> DeleteTargetsAsync(string collection, WriteCaller caller, ItemsRequest r)
    {
        var body = await JsonBody.ReadAsync(r.Context.Request, r.Aborted);
        return body is JsonArray list ? ItemsService.Keys(list) : await r.Items.TargetsAsync(collection, ItemsService.Item(body), caller, r.Aborted);
    }

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
        var items = await r.Items.ReadBackAsync(collection, keys, QueryParser.Parse(r.Context.Request.Query), caller, r.Aborted);
        if (one) return items?.FirstOrDefault() is { } item ? Results.Json(new JsonObject { ["data"] = item.DeepClone() }) : Results.NoContent();
        return items is null ? Results.NoContent() : Results.Json(new JsonObject { ["data"] = items });
    }
}
