using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace AiAssistant.Tests.Content.Query;

/// <summary>A small blog (authors, articles with an m2o, an o2m and an m2m through a junction) as a snapshot and as tables.</summary>
internal static class ContentTestSchema
{
    private static FieldSchema F(string collection, string field, string type, bool pk = false) =>
        new(collection, field, type, IsPrimaryKey: pk, AutoIncrement: pk, Nullable: !pk);

    private static CollectionSchema C(string name, params (string Field, string Type)[] fields) =>
        new(name, "id", new[] { F(name, "id", "integer", pk: true) }.Concat(fields.Select(f => F(name, f.Field, f.Type)))
            .ToDictionary(f => f.Field), new CollectionMeta());

    public static readonly SchemaSnapshot Snapshot = new(
    [
        C("authors", ("name", "string"), ("email", "string"), ("secret", "string")),
        C("articles", ("title", "string"), ("body", "text"), ("price", "decimal"), ("views", "integer"), ("big", "bigInteger"),
            ("rating", "float"), ("published", "boolean"), ("status", "string"), ("published_on", "date"),
            ("created_at", "timestamp"), ("ref", "uuid"), ("local_at", "dateTime"), ("opens", "time"), ("extra", "json"), ("keywords", "csv"),
            ("author", "integer"), ("comments", "alias"), ("tags", "alias")),
        C("comments", ("article", "integer"), ("text", "text"), ("owner", "string")),
        C("tags", ("name", "string")),
        C("articles_tags", ("articles_id", "integer"), ("tags_id", "integer")),
    ],
    [
        new RelationSchema("articles", "author", "authors"),
        new RelationSchema("comments", "article", "articles", OneField: "comments"),
        new RelationSchema("articles_tags", "articles_id", "articles", OneField: "tags", JunctionField: "tags_id"),
        new RelationSchema("articles_tags", "tags_id", "tags", JunctionField: "articles_id"),
    ]);

    public const string Sql = """
        CREATE TABLE authors (id serial PRIMARY KEY, name varchar(255), email varchar(255), secret varchar(255));
        CREATE TABLE articles (id serial PRIMARY KEY, title varchar(255), body text, price numeric(10, 2), views integer,
            big bigint, rating real, published boolean, status varchar(255), published_on date, created_at timestamptz,
            ref uuid, local_at timestamp, opens time, extra jsonb, keywords text, author integer REFERENCES authors(id));
        CREATE TABLE comments (id serial PRIMARY KEY, article integer REFERENCES articles(id), text text, owner varchar(255));
        CREATE TABLE tags (id serial PRIMARY KEY, name varchar(255));
        CREATE TABLE articles_tags (id serial PRIMARY KEY, articles_id integer REFERENCES articles(id), tags_id integer REFERENCES tags(id));
        INSERT INTO authors (name, email, secret) VALUES ('Ann', 'ann@example.com', 's1'), ('Bob', 'bob@example.com', 's2'), ('Cy', NULL, 's3');
        INSERT INTO articles (title, body, price, views, big, rating, published, status, published_on, created_at, ref, author) VALUES
            ('Hello World', 'first', 10.50, 100, 9007199254740993, 4.5, true, 'published', '2024-01-15', '2024-01-15T10:00:00Z', '6f1c1a0e-6a43-4a4e-9d5e-3f5d7c0b8a11', 1),
            ('50% off_sale', NULL, 5.25, 50, 2, 3.25, false, 'draft', '2024-03-01', '2024-03-01T08:30:00Z', NULL, 2),
            ('hello again', '', 20.00, 0, 3, 1, true, 'published', '2025-02-10', '2025-02-10T23:59:59.123Z', NULL, NULL),
            ('Back\slash', 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1);
        UPDATE articles SET local_at = '2024-01-15T11:30:00', opens = '09:15:00', extra = '{"n":1,"tags":["a"]}', keywords = 'red,blue' WHERE id = 1;
        INSERT INTO comments (article, text, owner) VALUES (1, 'Nice', 'u1'), (1, 'Great', 'u2'), (2, 'Meh', 'u1');
        INSERT INTO tags (name) VALUES ('news'), ('tech');
        INSERT INTO articles_tags (articles_id, tags_id) VALUES (1, 1), (1, 2), (2, 2);
        """;

    public static IQueryCollection QueryString(string query) => new QueryCollection(QueryHelpers.ParseQuery(query));

    public static readonly QueryContext Context = new("user-1", "role-1", ["role-1"], ["policy-1"], TimeProvider.System);
}
