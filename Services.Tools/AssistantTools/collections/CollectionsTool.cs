using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.ToolRegistry;
using static AiAssistant.Services.Tools.AssistantTools.SchemaToolInput;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>collections</c> tool (admins only) over <see cref="SchemaStore"/>, answering <c>/collections</c>'s
/// shapes. Several collections created, updated or deleted in one call are one schema change: all or none.
/// </summary>
public sealed class CollectionsTool(SchemaStore store, SchemaCache cache) : IToolHandler
{
    public string Name => "collections";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        RequireAdmin(call);
        var ct = call.Aborted;
        switch (call.Action)
        {
            case "create":
                var created = await store.CreateCollectionsAsync(call.Input["data"]!.AsArray().Select(c => (JsonObject)c!).ToList(), ct);
                return new JsonArray(created.Select(c => (JsonNode)SchemaJson.Collection(c)).ToArray());
            case "read":
                var schema = await cache.GetAsync(ct);
                return call.Input["keys"] is JsonArray keys
                    ? new JsonArray(keys.Select(k => (JsonNode)SchemaJson.Collection(SchemaApi.Collection(schema, k!.GetValue<string>()))).ToArray())
                    : SchemaJson.Collections(schema);
            case "update":
                var updated = await store.UpdateCollectionsAsync(
                    call.Input["data"]!.AsArray().Select(c => (Text(c!.AsObject(), "collection"), c.AsObject())).ToList(), ct);
                return new JsonArray(updated.Select(c => (JsonNode)SchemaJson.Collection(c)).ToArray());
            case "delete":
                var names = call.Input["keys"]!.AsArray().Select(k => k!.GetValue<string>()).ToList();
                await store.DeleteCollectionsAsync(names, ct);
                return new JsonArray(names.Select(n => (JsonNode)JsonValue.Create(n)).ToArray());
            default:
                throw ItemActions.UnknownAction(call);
        }
    }

    public string? Link(JsonObject input, JsonObject record) =>
        record["collection"] is JsonValue c && c.TryGetValue<string>(out var name) ? $"content/{Uri.EscapeDataString(name)}" : null;
}
