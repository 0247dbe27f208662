using System.Text.Json.Nodes;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>The schema model in Directus's REST shapes (<c>/collections</c>, <c>/fields</c>, <c>/relations</c>).</summary>
public static class SchemaJson
{
    /// <summary>Every collection, in the data model's order (<c>meta.sort</c>, then name), as <c>GET /collections</c> lists them.</summary>
    public static JsonArray Collections(SchemaSnapshot schema) =>
        new(schema.Collections.Values.OrderBy(c => c.Meta.Sort ?? int.MaxValue).ThenBy(c => c.Collection, StringComparer.Ordinal)
            .Select(c => (JsonNode)Collection(c)).ToArray());

    public static JsonArray Fields(SchemaSnapshot schema, IEnumerable<FieldSchema> fields) =>
        new(fields.Select(f => (JsonNode)Field(schema, f)).ToArray());

    public static JsonArray Relations(SchemaSnapshot schema, IEnumerable<RelationSchema> relations) =>
        new(relations.Select(r => (JsonNode)Relation(schema, r)).ToArray());

    public static JsonObject Collection(CollectionSchema c) => new()
    {
        ["collection"] = c.Collection,
        ["meta"] = new JsonObject
        {
            ["collection"] = c.Collection,
            ["note"] = c.Meta.Note,
            ["hidden"] = c.Meta.Hidden,
            ["singleton"] = c.Meta.Singleton,
            ["icon"] = c.Meta.Icon,
            ["sort"] = c.Meta.Sort,
            ["group"] = c.Meta.Group,
            ["system"] = c.Meta.System,
        },
        ["schema"] = c.IsFolder ? null : new JsonObject { ["name"] = c.Collection },
    };

    public static JsonObject Field(SchemaSnapshot schema, FieldSchema f)
    {
        var m = f.Meta ?? new FieldMeta();
        var foreignKey = schema.ManyToOne(f.Collection, f.Field) is { ConstraintName: not null } r ? r : null;
        return new JsonObject
        {
            ["collection"] = f.Collection,
            ["field"] = f.Field,
            ["type"] = f.Type,
            ["meta"] = new JsonObject
            {
                ["collection"] = f.Collection,
                ["field"] = f.Field,
                ["special"] = m.Special is { Count: > 0 } special ? new JsonArray(special.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()) : null,
                ["interface"] = m.Interface,
                ["options"] = m.Options?.DeepClone(),
                ["display"] = m.Display,
                ["display_options"] = m.DisplayOptions?.DeepClone(),
                ["readonly"] = m.Readonly,
                ["hidden"] = m.Hidden,
                ["sort"] = m.Sort,
                ["width"] = m.Width,
                ["note"] = m.Note,
                ["required"] = m.Required,
                ["validation"] = m.Validation?.DeepClone(),
            },
            ["schema"] = f.IsAlias ? null : new JsonObject
            {
                ["name"] = f.Field,
                ["table"] = f.Collection,
                ["data_type"] = DataType(f.Type),
                ["default_value"] = f.DefaultValue?.DeepClone(),
                ["max_length"] = f.MaxLength,
                ["numeric_precision"] = f.NumericPrecision,
                ["numeric_scale"] = f.NumericScale,
                ["is_nullable"] = f.Nullable,
                ["is_unique"] = f.Unique,
                ["is_indexed"] = f.Indexed,
                ["is_primary_key"] = f.IsPrimaryKey,
                ["has_auto_increment"] = f.AutoIncrement,
                ["foreign_key_table"] = foreignKey?.RelatedCollection,
                ["foreign_key_column"] = foreignKey is null ? null : schema.Collection(foreignKey.RelatedCollection!)?.PrimaryKey,
            },
        };
    }

    public static JsonObject Relation(SchemaSnapshot schema, RelationSchema r) => new()
    {
        ["collection"] = r.Collection,
        ["field"] = r.Field,
        ["related_collection"] = r.RelatedCollection,
        ["meta"] = new JsonObject
        {
            ["many_collection"] = r.Collection,
            ["many_field"] = r.Field,
            ["one_collection"] = r.RelatedCollection,
            ["one_field"] = r.OneField,
            ["junction_field"] = r.JunctionField,
            ["sort_field"] = r.SortField,
            ["one_deselect_action"] = r.OneDeselectAction,
        },
        ["schema"] = r.ConstraintName is null ? null : new JsonObject
        {
            ["table"] = r.Collection,
            ["column"] = r.Field,
            ["foreign_key_table"] = r.RelatedCollection,
            ["foreign_key_column"] = schema.Collection(r.RelatedCollection!)?.PrimaryKey,
            ["constraint_name"] = r.ConstraintName,
            ["on_update"] = "NO ACTION",
            ["on_delete"] = r.OnDelete,
        },
    };

    /// <summary>The PostgreSQL type name the catalog reports for a Directus type's column.</summary>
    private static string DataType(string type) => type switch
    {
        "string" or "hash" => "character varying",
        "text" or "csv" => "text",
        "bigInteger" => "bigint",
        "float" => "real",
        "decimal" => "numeric",
        "dateTime" => "timestamp without time zone",
        "time" => "time without time zone",
        "timestamp" => "timestamp with time zone",
        "json" => "jsonb",
        _ => type,
    };
}
