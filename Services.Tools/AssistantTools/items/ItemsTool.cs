using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>items</c> tool over the content collections, under the caller's permissions. A system collection
/// (<c>directus_*</c>) is refused — files and folders have tools of their own; an unknown or forbidden one is the
/// store's 403. A singleton's create and update upsert its one item and answer it as an object.
/// </summary>
public sealed class ItemsTool(ItemsService items, SchemaCache cache) : IToolHandler
{
    public string Name => "items";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        var collection = call.Input["collection"]!.GetValue<string>();
        if (collection.StartsWith("directus_", StringComparison.Ordinal) || (await cache.GetAsync(call.Aborted)).Collection(collection)?.Meta.System == true)
            throw DirectusException.InvalidPayload("Cannot provide a core collection", "collection");
        var singleton = (await items.CollectionAsync(collection, call.Aborted)).Meta.Singleton;
        return (call.Action, singleton) switch
        {
            ("read", true) => await ReadSingletonAsync(collection, call),
            ("read", false) => await ItemActions.ReadAsync(items, collection, call),
            ("create" or "update", true) => await UpsertSingletonAsync(collection, call),
            ("create", false) => await ItemActions.CreateAsync(items, collection, call),
            ("update", false) => await ItemActions.UpdateAsync(items, collection, call),
            ("delete", _) => await ItemActions.DeleteAsync(items, collection, call),
            _ => throw ItemActions.UnknownAction(call),
        };
    }

    /// <summary><c>content/&lt;collection&gt;/&lt;key&gt;</c>, or <c>content/&lt;collection&gt;</c> for a singleton.</summary>
    public string? Link(JsonObject input, JsonObject record)
    {
        var collection = input["collection"]!.GetValue<string>();
        if (cache.Current?.Collection(collection) is not { } table) return null;
        if (table.Meta.Singleton) return $"content/{Uri.EscapeDataString(collection)}";
        return table.PrimaryKey is { } pk && record[pk] is JsonValue key
            ? $"content/{Uri.EscapeDataString(collection)}/{Uri.EscapeDataString(key.GetValueKind() == System.Text.Json.JsonValueKind.String ? key.GetValue<string>() : key.ToJsonString())}"
            : null;
    }

    private async Task<JsonNode?> ReadSingletonAsync(string collection, ToolCall call)
    {
        var query = ItemActions.Query(call);
        var page = await items.ReadAsync(collection, query, call.Caller.Permissions, call.Caller.Writer.Context, call.Aborted);
        return query.IsAggregate ? page.Items : page.Items.FirstOrDefault()?.DeepClone();
    }

    private async Task<JsonNode?> UpsertSingletonAsync(string collection, ToolCall call)
    {
        if (call.Input["data"] is not JsonObject data)
            throw DirectusException.InvalidPayload($"\"{collection}\" is a singleton: \"data\" must be one object, not a list", "data");
        var keys = await items.UpsertSingletonAsync(collection, data, call.Caller.Writer, call.Aborted);
        return await ItemActions.ReadBackAsync(items, collection, keys, call) is { Count: > 0 } read ? read[0]!.DeepClone() : null;
    }
}
