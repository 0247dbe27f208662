using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// Reads Directus's request bodies for collections, fields and relations into the schema model, checking every value's
/// JSON type; an error names the payload field (<c>"meta.hidden" must be a boolean</c>). Update bodies merge into the
/// existing value: a property that is absent keeps its value, as Directus's PATCH does.
/// </summary>
public static class SchemaPayload
{
    public static readonly string[] OnDeleteActions = ["SET NULL", "CASCADE", "NO ACTION", "RESTRICT", "SET DEFAULT"];
    public static readonly string[] DeselectActions = ["nullify", "delete"];

    public static CollectionMeta CollectionMeta(JsonObject? meta, CollectionMeta current) => meta is null ? current : new CollectionMeta(
        Note: Has(meta, "note") ? Str(meta, "note", "meta.note") : current.Note,
        Hidden: Has(meta, "hidden") ? Bool(meta, "hidden", "meta.hidden") : current.Hidden,
        Singleton: Has(meta, "singleton") ? Bool(meta, "singleton", "meta.singleton") : current.Singleton,
        Icon: Has(meta, "icon") ? Str(meta, "icon", "meta.icon") : current.Icon,
        Sort: Has(meta, "sort") ? Int(meta, "sort", "meta.sort") : current.Sort,
        Group: Has(meta, "group") ? Str(meta, "group", "meta.group") : current.Group);

    public static FieldMeta FieldMeta(JsonObject? meta, FieldMeta current) => meta is null ? current : new FieldMeta(
        Interface: Has(meta, "interface") ? Str(meta, "interface", "meta.interface") : current.Interface,
        Options: Has(meta, "options") ? meta["options"]?.DeepClone() : current.Options,
        Display: Has(meta, "display") ? Str(meta, "display", "meta.display") : current.Display,
        DisplayOptions: Has(meta, "display_options") ? meta["display_options"]?.DeepClone() : current.DisplayOptions,
        Readonly: Has(meta, "readonly") ? Bool(meta, "readonly", "meta.readonly") : current.Readonly,
        Hidden: Has(meta, "hidden") ? Bool(meta, "hidden", "meta.hidden") : current.Hidden,
        Required: Has(meta, "required") ? Bool(meta, "required", "meta.required") : current.Required,
        Note: Has(meta, "note") ? Str(meta, "note", "meta.note") : current.Note,
        Sort: Has(meta, "sort") ? Int(meta, "sort", "meta.sort") : current.Sort,
        Width: Has(meta, "width") ? Str(meta, "width", "meta.width") : current.Width,
        Special: Has(meta, "special") ? Special(meta["special"]) : current.Special,
        Validation: Has(meta, "validation") ? meta["validation"]?.DeepClone() : current.Validation);

    /// <summary>A new field of <paramref name="collection"/> from a <c>POST /fields</c> body or an entry of a collection's <c>fields</c>.</summary>
    public static FieldSchema NewField(string collection, JsonObject body)
    {
        var name = SchemaNames.Field(Str(body, "field", "field"));
        var type = Str(body, "type", "type") ?? throw DirectusException.InvalidPayload("\"type\" is required", "type");
        var draft = new FieldSchema(collection, name, type, Meta: new FieldMeta());
        return Field(draft, body, creating: true);
    }

    /// <summary>The field after a <c>PATCH /fields/:collection/:field</c> body (or a new one from <see cref="NewField"/>).</summary>
    public static FieldSchema Field(FieldSchema current, JsonObject body, bool creating = false)
    {
        var type = Has(body, "type") ? Str(body, "type", "type") ?? current.Type : current.Type;
        if (!FieldTypes.All.Contains(type))
            throw DirectusException.InvalidPayload($"\"type\" must be one of {string.Join(", ", FieldTypes.All)}", "type");
        if (!creating && (type == FieldTypes.Alias) != current.IsAlias)
            throw DirectusException.InvalidPayload("\"type\" can't change between alias and a column type", "type");
        var meta = FieldMeta(Obj(body, "meta", "meta"), current.Meta ?? new FieldMeta());
        var schema = Obj(body, "schema", "schema");
        if (type == FieldTypes.Alias || schema is null)
            return current with { Type = type, Meta = meta };
        if (!creating && (Has(schema, "is_primary_key") || Has(schema, "has_auto_increment"))
            && (Bool(schema, "is_primary_key", "schema.is_primary_key") != current.IsPrimaryKey || Bool(schema, "has_auto_increment", "schema.has_auto_increment") != current.AutoIncrement))
            throw DirectusException.InvalidPayload("\"schema.is_primary_key\" and \"schema.has_auto_increment\" can't change after a field is created", "schema");
        var isPrimaryKey = Has(schema, "is_primary_key") ? Bool(schema, "is_primary_key", "schema.is_primary_key") : current.IsPrimaryKey;
        return current with
        {
            Type = type,
            Meta = meta,
            IsPrimaryKey = isPrimaryKey,
            AutoIncrement = Has(schema, "has_auto_increment") ? Bool(schema, "has_auto_increment", "schema.has_auto_increment") : current.AutoIncrement,
            Nullable = !isPrimaryKey && (Has(schema, "is_nullable") ? Bool(schema, "is_nullable", "schema.is_nullable") : current.Nullable),
            Unique = Has(schema, "is_unique") ? Bool(schema, "is_unique", "schema.is_unique") : current.Unique,
            Indexed = Has(schema, "is_indexed") ? Bool(schema, "is_indexed", "schema.is_indexed") : current.Indexed,
            MaxLength = Has(schema, "max_length") ? Int(schema, "max_length", "schema.max_length") : current.MaxLength,
            NumericPrecision = Has(schema, "numeric_precision") ? Int(schema, "numeric_precision", "schema.numeric_precision") : current.NumericPrecision,
            NumericScale = Has(schema, "numeric_scale") ? Int(schema, "numeric_scale", "schema.numeric_scale") : current.NumericScale,
            DefaultValue = Has(schema, "default_value") ? schema["default_value"]?.DeepClone() : current.DefaultValue,
        };
    }

    /// <summary>A relation from a <c>POST /relations</c> body; <c>schema: null</c> asks for no foreign key, as in Directus.</summary>
    public static (RelationSchema Relation, bool ForeignKey) NewRelation(JsonObject body)
    {
        var collection = Str(body, "collection", "collection") ?? throw DirectusException.InvalidPayload("\"collection\" is required", "collection");
        var field = Str(body, "field", "field") ?? throw DirectusException.InvalidPayload("\"field\" is required", "field");
        var related = Str(body, "related_collection", "related_collection")
            ?? throw DirectusException.InvalidPayload("\"related_collection\" is required (relations to any collection are not supported)", "related_collection");
        var draft = new RelationSchema(collection, field, related, OnDelete: "SET NULL");
        var foreignKey = !(body.TryGetPropertyValue("schema", out var schema) && schema is null);
        return (Relation(draft, body), foreignKey);
    }

    /// <summary>The relation after a <c>PATCH /relations/:collection/:field</c> body.</summary>
    public static RelationSchema Relation(RelationSchema current, JsonObject body)
    {
        var meta = Obj(body, "meta", "meta");
        var schema = Obj(body, "schema", "schema");
        var result = current;
        if (meta is not null)
            result = result with
            {
                OneField = Has(meta, "one_field") ? Str(meta, "one_field", "meta.one_field") : current.OneField,
                JunctionField = Has(meta, "junction_field") ? Str(meta, "junction_field", "meta.junction_field") : current.JunctionField,
                SortField = Has(meta, "sort_field") ? Str(meta, "sort_field", "meta.sort_field") : current.SortField,
                OneDeselectAction = Has(meta, "one_deselect_action") ? Str(meta, "one_deselect_action", "meta.one_deselect_action") ?? "nullify" : current.OneDeselectAction,
            };
        if (schema is not null && Has(schema, "on_delete"))
            result = result with { OnDelete = Str(schema, "on_delete", "schema.on_delete") ?? "SET NULL" };
        if (!OnDeleteActions.Contains(result.OnDelete))
            throw DirectusException.InvalidPayload($"\"schema.on_delete\" must be one of {string.Join(", ", OnDeleteActions)}", "schema.on_delete");
        if (!DeselectActions.Contains(result.OneDeselectAction))
            throw DirectusException.InvalidPayload($"\"meta.one_deselect_action\" must be one of {string.Join(", ", DeselectActions)}", "meta.one_deselect_action");
        return result;
    }

    public static bool Has(JsonObject o, string key) => o.ContainsKey(key);

    public static string? Str(JsonObject o, string key, string path) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw DirectusException.InvalidPayload($"\"{path}\" must be a string", path),
    };

    public static JsonObject? Obj(JsonObject o, string key, string path) => o[key] switch
    {
        null => null,
        JsonObject child => child,
        _ => throw DirectusException.InvalidPayload($"\"{path}\" must be an object", path),
    };

    private static bool Bool(JsonObject o, string key, string path) => o[key] switch
    {
        null => false,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw DirectusException.InvalidPayload($"\"{path}\" must be a boolean", path),
    };

    private static int? Int(JsonObject o, string key, string path) => o[key] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) => i,
        _ => throw DirectusException.InvalidPayload($"\"{path}\" must be an integer", path),
    };

    /// <summary>Directus sends <c>special</c> as an array, and older clients as a comma-separated string.</summary>
    private static IReadOnlyList<string> Special(JsonNode? node) => node switch
    {
        null => [],
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        JsonArray a when a.All(x => x is JsonValue s && s.GetValueKind() == JsonValueKind.String) => a.Select(x => x!.GetValue<string>()).ToList(),
        _ => throw DirectusException.InvalidPayload("\"meta.special\" must be an array of strings", "meta.special"),
    };
}
