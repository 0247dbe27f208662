using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's root <c>schema</c> tool, read from this replica's <see cref="SchemaCache"/>: with no keys, the
/// collections, collection folders and notes; with keys, each field's type, key, required, readonly, note, interface
/// (with its choices) and relation. The caller sees only what it may read (<see cref="SchemaVisibility"/>), so the
/// model never learns of a collection or field its user could not open.
/// </summary>
public sealed class SchemaTool(SchemaCache cache) : IToolHandler
{
    public string Name => "schema";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        var schema = await cache.GetAsync(call.Aborted);
        var granted = call.Caller.Permissions;
        if (!granted.IsAdmin) schema = SchemaVisibility.For(schema, granted);
        // the content's own collections; system ones (directus_files, …) only when named
        var visible = schema.Collections.Values.Where(c => !c.Meta.Hidden && !c.Meta.System).OrderBy(c => c.Collection, StringComparer.Ordinal).ToList();
        if (call.Input["keys"] is JsonArray keys)
        {
            var wanted = keys.Select(k => k!.GetValue<string>()).ToHashSet();
            var details = new JsonObject();
            foreach (var c in schema.Collections.Values.Where(c => wanted.Contains(c.Collection)))
                details[c.Collection] = Fields(schema, c);
            if (details.Count == 0 && wanted.Count > 0)
                throw new ToolException("NOT_FOUND", $"No collection named {string.Join(", ", wanted.Select(m => $"\"{m}\""))}. Call schema() to list them.");
            return details;
        }
        var notes = new JsonObject();
        foreach (var c in visible.Where(c => c.Meta.Note is not null)) notes[c.Collection] = c.Meta.Note;
        return new JsonObject
        {
            ["collections"] = Names(visible.Where(c => !c.IsFolder)),
            ["collection_folders"] = Names(visible.Where(c => c.IsFolder)),
            ["notes"] = notes,
        };
    }

    private static JsonArray Names(IEnumerable<CollectionSchema> collections) =>
        new(collections.Select(c => (JsonNode)JsonValue.Create(c.Collection)).ToArray());

    private static JsonObject Fields(SchemaSnapshot schema, CollectionSchema collection)
    {
        var fields = new JsonObject();
        foreach (var f in collection.Fields.Values.Where(f => !f.Special.Contains("no-data")))
        {
            var m = f.Meta ?? new FieldMeta();
            var detail = new JsonObject { ["type"] = f.Type };
            if (f.IsPrimaryKey) detail["primary_key"] = true;
            if (m.Required) detail["required"] = true;
            if (m.Readonly) detail["readonly"] = true;
            if (m.Note is not null) detail["note"] = m.Note;
            if (m.Interface is not null)
            {
                var ui = new JsonObject { ["type"] = m.Interface };
                if (m.Options?["choices"] is JsonArray choices)
                    ui["choices"] = new JsonArray(choices.Select(c => c is JsonObject o && o.ContainsKey("value") ? o["value"]?.DeepClone() : c?.DeepClone()).ToArray());
                detail["interface"] = ui;
            }
            if (Relation(schema, f) is { } relation) detail["relation"] = relation;
            fields[f.Field] = detail;
        }
        return fields;
    }

    private static JsonObject? Relation(SchemaSnapshot schema, FieldSchema f)
    {
        if (schema.ManyToOne(f.Collection, f.Field) is { } m2o)
            return new JsonObject { ["type"] = "m2o", ["collection"] = m2o.RelatedCollection };
        if (schema.OneToMany(f.Collection, f.Field) is not { } o2m) return null;
        if (schema.JunctionOther(o2m) is not { } other)
            return new JsonObject { ["type"] = "o2m", ["collection"] = o2m.Collection, ["many_field"] = o2m.Field };
        var junction = new JsonObject { ["collection"] = o2m.Collection, ["many_field"] = o2m.Field, ["junction_field"] = o2m.JunctionField };
        if (o2m.SortField is not null) junction["sort_field"] = o2m.SortField;
        return new JsonObject { ["type"] = "m2m", ["collection"] = other.RelatedCollection, ["many_field"] = o2m.Field, ["junction"] = junction };
    }
}
