using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.ToolRegistry;
using static AiAssistant.Services.Tools.AssistantTools.SchemaToolInput;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>fields</c> tool (admins only) over <see cref="SchemaStore"/>, answering <c>/fields</c>'s shapes.
/// Several fields created or updated in one call are one schema change (one transaction): all of them, or none.
/// </summary>
public sealed class FieldsTool(SchemaStore store, SchemaCache cache) : IToolHandler
{
    public string Name => "fields";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        RequireAdmin(call);
        var (input, ct) = (call.Input, call.Aborted);
        var collection = Optional(input, "collection");
        switch (call.Action)
        {
            case "create":
                var bodies = Bodies(input, collection!);
                var created = await store.CreateFieldsAsync(collection!, bodies, ct);
                return SchemaJson.Fields(await cache.GetAsync(ct), created);
            case "update":
                var changes = Bodies(input, collection!).Select(b => (Text(b, "field"), b)).ToList();
                var updated = await store.UpdateFieldsAsync(collection!, changes, ct);
                return SchemaJson.Fields(await cache.GetAsync(ct), updated);
            case "read":
                var schema = await cache.GetAsync(ct);
                if (collection is null) return SchemaJson.Fields(schema, schema.Collections.Values.SelectMany(c => c.Fields.Values));
                var table = SchemaApi.Collection(schema, collection);
                return Optional(input, "field") is { } field
                    ? SchemaJson.Field(schema, table.Field(field) ?? throw DirectusException.Forbidden())
                    : SchemaJson.Fields(schema, table.Fields.Values);
            case "delete":
                var name = Text(input, "field");
                await store.DeleteFieldAsync(collection!, name, ct);
                return new JsonObject { ["collection"] = collection, ["field"] = name };
            default:
                throw ItemActions.UnknownAction(call);
        }
    }

    private static List<JsonObject> Bodies(JsonObject input, string collection)
    {
        var bodies = input["data"] is JsonArray list ? list.Select(f => f!.AsObject()).ToList() : [input["data"]!.AsObject()];
        foreach (var body in bodies) Same(body, "collection", collection, "data[]");
        return bodies;
    }
}
