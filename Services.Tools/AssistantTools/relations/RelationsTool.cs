using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.ToolRegistry;
using static AiAssistant.Services.Tools.AssistantTools.SchemaToolInput;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>The reference's <c>relations</c> tool (admins only) over <see cref="SchemaStore"/>, answering <c>/relations</c>'s shapes.</summary>
public sealed class RelationsTool(SchemaStore store, SchemaCache cache) : IToolHandler
{
    public string Name => "relations";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        RequireAdmin(call);
        var (input, ct) = (call.Input, call.Aborted);
        var (collection, field) = (Optional(input, "collection"), Optional(input, "field"));
        var data = input["data"] as JsonObject;
        Same(data, "collection", collection, "data");
        Same(data, "field", field, "data");
        switch (call.Action)
        {
            case "create":
                var created = await store.CreateRelationAsync(data!, ct);
                return SchemaJson.Relation(await cache.GetAsync(ct), created);
            case "update":
                var updated = await store.UpdateRelationAsync(collection!, field!, data ?? [], ct);
                return SchemaJson.Relation(await cache.GetAsync(ct), updated);
            case "read":
                var schema = await cache.GetAsync(ct);
                if (collection is null) return SchemaJson.Relations(schema, schema.Relations);
                if (field is null) return SchemaJson.Relations(schema, SchemaApi.Relations(schema, collection));
                return SchemaJson.Relation(schema, schema.ManyToOne(collection, field) ?? throw DirectusException.Forbidden());
            case "delete":
                await store.DeleteRelationAsync(collection!, field!, ct);
                return new JsonObject { ["collection"] = collection, ["field"] = field };
            default:
                throw ItemActions.UnknownAction(call);
        }
    }
}
