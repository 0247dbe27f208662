using AiAssistant.ServiceDefaults.Data;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// Directus's <c>directus_activity</c> and <c>directus_revisions</c>: one activity row per item written (who, when,
/// from where), and for a create or an update a revision holding the whole item after the change and the fields
/// changed. Written in the write's own transaction, so the history never disagrees with the data.
/// </summary>
public sealed class ActivityTables : IDatabaseSchema
{
    public const string Activity = "content_activity";
    public const string Revisions = "content_revisions";

    public string Sql => """
        create table if not exists content_activity (
            id bigserial primary key,
            action text not null,
            "user" uuid,
            timestamp timestamptz not null default now(),
            ip text,
            user_agent text,
            collection text not null,
            item text not null,
            origin text
        );
        create index if not exists content_activity_item on content_activity (collection, item);
        create table if not exists content_revisions (
            id bigserial primary key,
            activity bigint not null references content_activity (id) on delete cascade,
            collection text not null,
            item text not null,
            data jsonb,
            delta jsonb
        );
        create index if not exists content_revisions_item on content_revisions (collection, item);
        """;

    /// <summary>Both tables as collections, so <c>GET /activity</c> and <c>/revisions</c> take the whole query language.</summary>
    public static readonly SchemaSnapshot Snapshot = new(
    [
        Table(Activity, ("id", "bigInteger"), ("action", "string"), ("user", "uuid"), ("timestamp", "timestamp"), ("ip", "string"),
            ("user_agent", "string"), ("collection", "string"), ("item", "string"), ("origin", "string")),
        Table(Revisions, ("id", "bigInteger"), ("activity", "bigInteger"), ("collection", "string"), ("item", "string"),
            ("data", "json"), ("delta", "json")),
    ], [new RelationSchema(Revisions, "activity", Activity)]);

    private static CollectionSchema Table(string name, params (string Field, string Type)[] fields) => new(name, "id",
        fields.ToDictionary(f => f.Field, f => new FieldSchema(name, f.Field, f.Type, IsPrimaryKey: f.Field == "id")), new CollectionMeta());
}
