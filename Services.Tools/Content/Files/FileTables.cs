using AiAssistant.ServiceDefaults.Data;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// Directus's <c>directus_files</c> and <c>directus_folders</c> as real tables of the content database and as system
/// collections of every schema snapshot (<see cref="SchemaReader"/> adds <see cref="Collections"/>), so <c>/files</c>
/// and <c>/folders</c> read and write through the query compiler and the permission engine like any collection. Their
/// shape is fixed here, not in <c>content_fields</c>: the schema API refuses to change them, and a user field may point
/// at a file (an m2o to <c>directus_files</c>).
/// </summary>
public sealed class FileTables : IDatabaseSchema
{
    public const string Files = "directus_files";
    public const string Folders = "directus_folders";

    public static bool IsSystem(string collection) => collection is Files or Folders;

    /// <summary>A file's fields only the store writes (read-only fields of a system collection): a payload naming one is 400.</summary>
    private static readonly string[] StoreOwned = ["id", "storage", "filename_disk", "type", "filesize", "width", "height"];

    public string Sql => """
        create table if not exists directus_folders (
            id uuid primary key,
            name varchar(255) not null,
            parent uuid references directus_folders (id) on delete set null
        );
        create table if not exists directus_files (
            id uuid primary key,
            storage varchar(255) not null,
            filename_disk varchar(255),
            filename_download varchar(255) not null,
            title varchar(255),
            type varchar(255),
            folder uuid references directus_folders (id) on delete set null,
            uploaded_by uuid,
            created_on timestamptz not null default now(),
            modified_by uuid,
            modified_on timestamptz,
            uploaded_on timestamptz,
            charset varchar(50),
            filesize bigint,
            width integer,
            height integer,
            duration integer,
            description text,
            location text,
            tags text,
            metadata jsonb,
            focal_point_x integer,
            focal_point_y integer
        );
        """;

    public static readonly IReadOnlyList<CollectionSchema> Collections =
    [
        Table(Folders, ("id", "uuid", "uuid"), ("name", "string", null), ("parent", "uuid", "m2o")),
        Table(Files, ("id", "uuid", "uuid"), ("storage", "string", null), ("filename_disk", "string", null),
            ("filename_download", "string", null), ("title", "string", null), ("type", "string", null), ("folder", "uuid", "m2o"),
            ("uploaded_by", "uuid", "user-created"), ("created_on", "timestamp", "date-created"), ("modified_by", "uuid", "user-updated"),
            ("modified_on", "timestamp", "date-updated"), ("uploaded_on", "timestamp", "date-created"), ("charset", "string", null),
            ("filesize", "bigInteger", null), ("width", "integer", null), ("height", "integer", null), ("duration", "integer", null),
            ("description", "text", null), ("location", "text", null), ("tags", "csv", "cast-csv"), ("metadata", "json", "cast-json"),
            ("focal_point_x", "integer", null), ("focal_point_y", "integer", null)),
    ];

    public static readonly IReadOnlyList<RelationSchema> Relations =
    [
        new(Files, "folder", Folders, OnDelete: "SET NULL", ConstraintName: "directus_files_folder_fkey"),
        new(Folders, "parent", Folders, OnDelete: "SET NULL", ConstraintName: "directus_folders_parent_fkey"),
    ];

    private static CollectionSchema Table(string name, params (string Field, string Type, string? Special)[] fields) => new(name, "id",
        fields.ToDictionary(f => f.Field, f => new FieldSchema(name, f.Field, f.Type, IsPrimaryKey: f.Field == "id",
            Nullable: f.Field is not ("id" or "storage" or "filename_download" or "name" or "created_on"), Unique: f.Field == "id",
            MaxLength: f.Type == "string" ? (f.Field == "charset" ? 50 : 255) : null,
            Meta: new FieldMeta(Special: f.Special is null ? [] : [f.Special], Readonly: name == Files && StoreOwned.Contains(f.Field)))),
        new CollectionMeta(Note: name == Files ? "Files (system collection, /files)" : "Folders of files (system collection, /folders)", System: true));
}
