using System.Text.Json.Nodes;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// The CMS schema as the content store reads it: every collection with its fields, and the relations between them,
/// in Directus's model (<c>directus_collections</c>, <c>directus_fields</c>, <c>directus_relations</c>). Immutable: a
/// schema change builds a new snapshot and every replica swaps it in (<c>SchemaChanged</c>). The query compiler checks
/// every identifier against a snapshot, so nothing from a request is ever spliced into SQL as text.
/// </summary>
public sealed class SchemaSnapshot
{
    public static readonly SchemaSnapshot Empty = new([], []);

    public SchemaSnapshot(IEnumerable<CollectionSchema> collections, IEnumerable<RelationSchema> relations)
    {
        Collections = collections.ToDictionary(c => c.Collection, StringComparer.Ordinal);
        Relations = relations.ToList();
    }

    public IReadOnlyDictionary<string, CollectionSchema> Collections { get; }
    public IReadOnlyList<RelationSchema> Relations { get; }

    public CollectionSchema? Collection(string name) => Collections.GetValueOrDefault(name);

    /// <summary>The relation whose foreign key is <paramref name="field"/> of <paramref name="collection"/> (many-to-one, and a file field).</summary>
    public RelationSchema? ManyToOne(string collection, string field) =>
        Relations.FirstOrDefault(r => r.Collection == collection && r.Field == field && r.RelatedCollection is not null);

    /// <summary>The relation behind the alias <paramref name="field"/> of <paramref name="collection"/> (one-to-many; for many-to-many its junction side).</summary>
    public RelationSchema? OneToMany(string collection, string field) =>
        Relations.FirstOrDefault(r => r.RelatedCollection == collection && r.OneField == field);

    /// <summary>For a many-to-many through <paramref name="junction"/>: the junction's relation to the far side.</summary>
    public RelationSchema? JunctionOther(RelationSchema junction) =>
        junction.JunctionField is null ? null : ManyToOne(junction.Collection, junction.JunctionField);
}

/// <summary>A collection: a table, or a folder without one (<see cref="IsFolder"/>).</summary>
public sealed record CollectionSchema(
    string Collection,
    string? PrimaryKey,
    IReadOnlyDictionary<string, FieldSchema> Fields,
    CollectionMeta Meta)
{
    public bool IsFolder => PrimaryKey is null && Fields.Count == 0;
    public FieldSchema? Field(string name) => Fields.GetValueOrDefault(name);
}

public sealed record CollectionMeta(
    string? Note = null,
    bool Hidden = false,
    bool Singleton = false,
    string? Icon = null,
    int? Sort = null,
    string? Group = null,
    bool System = false);

/// <summary>
/// A field: a column with a Directus type, or an alias (no column: o2m, m2m, presentation). <see cref="Special"/>
/// holds Directus's flags (<c>uuid</c>, <c>date-created</c>, <c>date-updated</c>, <c>user-created</c>,
/// <c>user-updated</c>, <c>m2o</c>, <c>o2m</c>, <c>m2m</c>, <c>file</c>, <c>files</c>, <c>cast-json</c>, <c>cast-csv</c>, …).
/// </summary>
public sealed record FieldSchema(
    string Collection,
    string Field,
    string Type,
    bool IsPrimaryKey = false,
    bool Nullable = true,
    bool Unique = false,
    bool Indexed = false,
    bool AutoIncrement = false,
    int? MaxLength = null,
    int? NumericPrecision = null,
    int? NumericScale = null,
    JsonNode? DefaultValue = null,
    FieldMeta? Meta = null)
{
    public bool IsAlias => Type == FieldTypes.Alias;
    public IReadOnlyList<string> Special => Meta?.Special ?? [];
}

public sealed record FieldMeta(
    string? Interface = null,
    JsonNode? Options = null,
    string? Display = null,
    JsonNode? DisplayOptions = null,
    bool Readonly = false,
    bool Hidden = false,
    bool Required = false,
    string? Note = null,
    int? Sort = null,
    string? Width = null,
    IReadOnlyList<string>? Special = null,
    JsonNode? Validation = null);

/// <summary>
/// A relation in Directus's shape: <see cref="Collection"/>.<see cref="Field"/> (the many side, the foreign key)
/// points at <see cref="RelatedCollection"/>; <see cref="OneField"/> is the alias on the related collection that lists
/// the many side (o2m); <see cref="JunctionField"/> makes <see cref="Collection"/> a many-to-many junction.
/// </summary>
public sealed record RelationSchema(
    string Collection,
    string Field,
    string? RelatedCollection,
    string? OneField = null,
    string? JunctionField = null,
    string? SortField = null,
    string OneDeselectAction = "nullify",
    string OnDelete = "SET NULL",
    string? ConstraintName = null);

/// <summary>The Directus field types and the PostgreSQL column each becomes.</summary>
public static class FieldTypes
{
    public const string Alias = "alias";

    public static readonly IReadOnlyList<string> All =
    [
        "string", "text", "integer", "bigInteger", "float", "decimal", "boolean", "date", "dateTime", "time",
        "timestamp", "json", "uuid", "csv", "hash", Alias,
    ];

    /// <summary>The column type for <paramref name="field"/>; null for an alias.</summary>
    public static string? ColumnType(FieldSchema field) => field.Type switch
    {
        "string" => $"varchar({field.MaxLength ?? 255})",
        "hash" => $"varchar({field.MaxLength ?? 255})",
        "text" or "csv" => "text",
        "integer" => field.AutoIncrement ? "serial" : "integer",
        "bigInteger" => field.AutoIncrement ? "bigserial" : "bigint",
        "float" => "real",
        "decimal" => $"numeric({field.NumericPrecision ?? 10}, {field.NumericScale ?? 5})",
        "boolean" => "boolean",
        "date" => "date",
        "dateTime" => "timestamp",
        "time" => "time",
        "timestamp" => "timestamptz",
        "json" => "jsonb",
        "uuid" => "uuid",
        Alias => null,
        _ => throw new ArgumentOutOfRangeException(nameof(field), field.Type, "not a Directus field type"),
    };
}
