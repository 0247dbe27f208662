using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The actions the <c>items</c>, <c>files</c> and <c>folders</c> tools share, over one collection through
/// <see cref="ItemsService"/> (as the reference's tools share Directus's <c>ItemsService</c>): read by keys or query,
/// create, update as a batch, by keys or by query, delete by keys. Writes answer the items read back with the call's
/// <c>query</c> (its fields), or <c>null</c> when the user may write but not read them.
/// </summary>
public static class ItemActions
{
    public static ItemQuery Query(ToolCall call) =>
        call.Input["query"] is JsonObject query ? QueryParser.Parse((JsonObject)query.DeepClone()) : ItemQuery.Default;

    public static IReadOnlyList<JsonNode> Keys(ToolCall call) =>
        call.Input["keys"] is JsonArray keys ? ItemsService.Keys(keys) : throw DirectusException.InvalidPayload("\"keys\" is required", "keys");

    public static async Task<JsonNode?> ReadAsync(ItemsService items, string collection, ToolCall call)
    {
        var (access, context) = (call.Caller.Permissions, call.Caller.Writer.Context);
        if (call.Input["keys"] is JsonArray)
            return await items.ReadManyAsync(collection, Keys(call), Query(call), access, context, call.Aborted);
        return (await items.ReadAsync(collection, Query(call), access, context, call.Aborted)).Items;
    }

    public static async Task<JsonNode?> CreateAsync(ItemsService items, string collection, ToolCall call)
    {
        var data = call.Input["data"] is JsonArray list ? list.Select(ItemsService.Item).ToList() : [ItemsService.Item(call.Input["data"])];
        return await ReadBackAsync(items, collection, await items.CreateAsync(collection, data, call.Caller.Writer, call.Aborted), call);
    }

    /// <summary>A list is a batch (each item names itself by its primary key); an object is written to the items <c>keys</c> or <c>query</c> name.</summary>
    public static async Task<JsonNode?> UpdateAsync(ItemsService items, string collection, ToolCall call)
    {
        var caller = call.Caller.Writer;
        var keys = call.Input["data"] is JsonArray batch
            ? await items.UpdateBatchAsync(collection, batch, caller, call.Aborted)
            : await items.UpdateManyAsync(collection, await items.TargetsAsync(collection, call.Input, caller, call.Aborted),
                ItemsService.Item(call.Input["data"]), caller, call.Aborted);
        return await ReadBackAsync(items, collection, keys, call);
    }

    /// <summary>Deletes exactly the items <c>keys</c> names (all or none) and answers those keys.</summary>
    public static async Task<JsonNode?> DeleteAsync(ItemsService items, string collection, ToolCall call) =>
        new JsonArray((await items.DeleteAsync(collection, Keys(call), call.Caller.Writer, call.Aborted)).Select(k => k.DeepClone()).ToArray());

    public static async Task<JsonArray?> ReadBackAsync(ItemsService items, string collection, IReadOnlyList<JsonNode> keys, ToolCall call) =>
        await items.ReadBackAsync(collection, keys, Query(call), call.Caller.Writer, call.Aborted);

    public static ToolException UnknownAction(ToolCall call) =>
        new("INVALID_PAYLOAD", $"Unknown action \"{call.Action}\"");
}
