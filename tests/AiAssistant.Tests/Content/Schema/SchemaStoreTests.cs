using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Tests.Infrastructure;
using Npgsql;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Content.Schema;

/// <summary>Collections and fields against a real PostgreSQL: real tables and columns, read back from the catalog.</summary>
[Collection(ServersCollection.Name)]
public sealed class SchemaStoreTests(ServersFixture servers) : IAsyncLifetime
{
    private SchemaDatabase _db = null!;
    private SchemaStore Store => _db.Store;
    private static readonly CancellationToken Ct = CancellationToken.None;

    public async Task InitializeAsync() => _db = await SchemaDatabase.CreateAsync(servers, "schema");
    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Every_field_type_becomes_its_column_type_and_the_default_key_is_an_auto_increment_id()
    {
        var expected = new Dictionary<string, string>
        {
            ["string"] = "character varying", ["text"] = "text", ["integer"] = "integer", ["bigInteger"] = "bigint",
            ["float"] = "real", ["decimal"] = "numeric", ["boolean"] = "boolean", ["date"] = "date",
            ["dateTime"] = "timestamp without time zone", ["time"] = "time without time zone", ["timestamp"] = "timestamp with time zone",
            ["json"] = "jsonb", ["uuid"] = "uuid", ["csv"] = "text", ["hash"] = "character varying",
        };
        var fields = new JsonArray(expected.Keys.Append("alias").Select(t => (JsonNode)new JsonObject { ["field"] = "f_" + t.ToLowerInvariant(), ["type"] = t }).ToArray());
        var created = await Store.CreateCollectionAsync(new JsonObject { ["collection"] = "everything", ["schema"] = new JsonObject(), ["fields"] = fields }, Ct);

        var columns = await _db.ColumnsAsync("everything");
        Assert.Equal("integer", columns["id"]);
        foreach (var (type, dataType) in expected) Assert.Equal(dataType, columns["f_" + type.ToLowerInvariant()]);
        Assert.False(columns.ContainsKey("f_alias"));

        Assert.Equal("id", created.PrimaryKey);
        Assert.True(created.Field("id")!.AutoIncrement);
        Assert.False(created.Field("id")!.Nullable);
        Assert.Equal(17, created.Fields.Count);
        Assert.True(created.Field("f_alias")!.IsAlias);
        Assert.Equal(255, created.Field("f_string")!.MaxLength);
        Assert.Equal((10, 5), (created.Field("f_decimal")!.NumericPrecision, created.Field("f_decimal")!.NumericScale));
        foreach (var type in expected.Keys) Assert.Equal(type, created.Field("f_" + type.ToLowerInvariant())!.Type);

        await _db.ExecAsync("insert into everything (f_string) values ('a'), ('b')");
        Assert.Equal(2, await _db.ScalarAsync<int>("select max(id) from everything"));
    }

    [Fact]
    public async Task Defaults_nullable_unique_and_max_length_are_enforced_by_postgresql_and_read_back()
    {
        await Store.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"fields":[
              {"field":"id","type":"integer","schema":{"is_primary_key":true,"has_auto_increment":true}},
              {"field":"status","type":"string","schema":{"default_value":"dr'aft","max_length":10,"is_nullable":false}},
              {"field":"slug","type":"string","schema":{"is_unique":true}},
              {"field":"views","type":"integer","schema":{"default_value":5}},
              {"field":"ratio","type":"decimal","schema":{"default_value":1.25,"numeric_precision":8,"numeric_scale":2}},
              {"field":"published","type":"boolean","schema":{"default_value":true}},
              {"field":"extra","type":"json","schema":{"default_value":{"a":[1,2]}}},
              {"field":"created","type":"timestamp","schema":{"default_value":"CURRENT_TIMESTAMP"}}
            ]}
            """), Ct);

        await _db.ExecAsync("insert into articles (slug) values ('one')");
        Assert.Equal("dr'aft", await _db.ScalarAsync<string>("select status from articles"));
        Assert.Equal(5, await _db.ScalarAsync<int>("select views from articles"));
        Assert.True(await _db.ScalarAsync<bool>("select published and created is not null and extra = '{\"a\":[1,2]}' from articles"));
        Assert.Equal("23505", (await Assert.ThrowsAsync<PostgresException>(() => _db.ExecAsync("insert into articles (slug) values ('one')"))).SqlState);
        Assert.Equal("23502", (await Assert.ThrowsAsync<PostgresException>(() => _db.ExecAsync("insert into articles (status) values (null)"))).SqlState);
        Assert.Equal("22001", (await Assert.ThrowsAsync<PostgresException>(() => _db.ExecAsync("insert into articles (status) values ('12345678901')"))).SqlState);

        var schema = (await _db.NewCache().GetAsync(Ct)).Collection("articles")!;
        var status = schema.Field("status")!;
        Assert.Equal(("dr'aft", 10, false), (status.DefaultValue!.GetValue<string>(), status.MaxLength, status.Nullable));
        Assert.True(schema.Field("slug")!.Unique);
        Assert.Equal(5, schema.Field("views")!.DefaultValue!.GetValue<long>());
        Assert.Equal(1.25m, schema.Field("ratio")!.DefaultValue!.GetValue<decimal>());
        Assert.Equal((8, 2), (schema.Field("ratio")!.NumericPrecision, schema.Field("ratio")!.NumericScale));
        Assert.True(schema.Field("published")!.DefaultValue!.GetValue<bool>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"a":[1,2]}"""), schema.Field("extra")!.DefaultValue));
        Assert.Equal("CURRENT_TIMESTAMP", schema.Field("created")!.DefaultValue!.GetValue<string>());
    }

    [Fact]
    public async Task A_uuid_key_is_generated_by_postgresql_and_a_string_key_is_given_by_the_caller()
    {
        var uuid = await Store.CreateCollectionAsync(Body("""
            {"collection":"docs","schema":{},"fields":[{"field":"id","type":"uuid","schema":{"is_primary_key":true}},{"field":"title","type":"string"}]}
            """), Ct);
        Assert.Contains("uuid", uuid.Field("id")!.Special);
        await _db.ExecAsync("insert into docs (title) values ('x')");
        Assert.IsType<Guid>(await _db.ScalarAsync<Guid>("select id from docs"));

        var text = await Store.CreateCollectionAsync(Body("""
            {"collection":"countries","schema":{},"fields":[{"field":"code","type":"string","schema":{"is_primary_key":true,"max_length":2}}]}
            """), Ct);
        Assert.Equal("code", text.PrimaryKey);
        Assert.Equal("23502", (await Assert.ThrowsAsync<PostgresException>(() => _db.ExecAsync("insert into countries (code) values (null)"))).SqlState);
    }

    [Fact]
    public async Task A_collection_without_schema_is_a_folder_without_a_table_and_keeps_its_meta()
    {
        var folder = await Store.CreateCollectionAsync(Body("""{"collection":"blog","meta":{"note":"Blog","icon":"folder","sort":2}}"""), Ct);
        Assert.True(folder.IsFolder);
        Assert.False(await _db.TableExistsAsync("blog"));
        var child = await Store.CreateCollectionAsync(Body("""{"collection":"posts","schema":{},"meta":{"group":"blog","hidden":true}}"""), Ct);
        Assert.Equal(("blog", true), (child.Meta.Group, child.Meta.Hidden));

        var updated = await Store.UpdateCollectionAsync("posts", Body("""{"meta":{"note":"Posts","singleton":true}}"""), Ct);
        Assert.Equal(new CollectionMeta("Posts", Hidden: true, Singleton: true, Group: "blog"), updated.Meta);

        await Store.DeleteCollectionAsync("blog", Ct);
        var schema = await _db.Cache.GetAsync(Ct);
        Assert.Null(schema.Collection("blog"));
        Assert.Null(schema.Collection("posts")!.Meta.Group);
        var error = await Assert.ThrowsAsync<DirectusException>(() => Store.CreateCollectionAsync(Body("""{"collection":"f2","fields":[{"field":"a","type":"string"}]}"""), Ct));
        Assert.Equal(ErrorCodes.InvalidPayload, error.Code);
    }

    [Fact]
    public async Task Fields_are_added_altered_and_dropped_as_real_columns()
    {
        await Store.CreateCollectionAsync(Body("""{"collection":"notes","schema":{}}"""), Ct);
        await Store.CreateFieldAsync("notes", Body("""{"field":"title","type":"string","schema":{"max_length":5},"meta":{"interface":"input","note":"Short","required":true}}"""), Ct);
        await _db.ExecAsync("insert into notes (title) values ('abc')");

        var title = await Store.UpdateFieldAsync("notes", "title", Body("""{"schema":{"max_length":50,"is_nullable":false,"default_value":"untitled","is_unique":true},"meta":{"note":"Longer"}}"""), Ct);
        Assert.Equal((50, false, true, "untitled"), (title.MaxLength, title.Nullable, title.Unique, title.DefaultValue!.GetValue<string>()));
        Assert.Equal(("input", "Longer", true), (title.Meta!.Interface, title.Meta.Note, title.Meta.Required));
        await _db.ExecAsync("insert into notes (title) values ('a title longer than five')");
        await _db.ExecAsync("insert into notes default values");
        Assert.Equal("23505", (await Assert.ThrowsAsync<PostgresException>(() => _db.ExecAsync("insert into notes (title) values ('abc')"))).SqlState);

        var relaxed = await Store.UpdateFieldAsync("notes", "title", Body("""{"type":"text","schema":{"is_unique":false,"default_value":null}}"""), Ct);
        Assert.Equal(("text", false, null), (relaxed.Type, relaxed.Unique, relaxed.DefaultValue));
        Assert.Equal("text", (await _db.ColumnsAsync("notes"))["title"]);
        await _db.ExecAsync("insert into notes (title) values ('abc')");

        var duplicate = await Assert.ThrowsAsync<DirectusException>(() => Store.CreateFieldAsync("notes", Body("""{"field":"title","type":"string"}"""), Ct));
        Assert.Contains("Field \"title\" already exists in collection \"notes\"", duplicate.Message);

        await Store.DeleteFieldAsync("notes", "title", Ct);
        Assert.False((await _db.ColumnsAsync("notes")).ContainsKey("title"));
        Assert.Equal(2, await _db.SystemRowsAsync("notes"));
        var key = await Assert.ThrowsAsync<DirectusException>(() => Store.DeleteFieldAsync("notes", "id", Ct));
        Assert.Equal(ErrorCodes.InvalidPayload, key.Code);
    }

    [Fact]
    public async Task Is_indexed_makes_a_real_index_and_taking_it_back_drops_it()
    {
        await Store.CreateCollectionAsync(Body("""{"collection":"posts","schema":{},"fields":[{"field":"views","type":"integer","schema":{"is_indexed":true}}]}"""), Ct);
        await Store.CreateFieldAsync("posts", Body("""{"field":"status","type":"string","schema":{"is_indexed":true}}"""), Ct);
        Task<long> IndexesOn(string column) => _db.ScalarAsync<long>(
            "select count(*) from pg_indexes where tablename = 'posts' and indexdef like '%(' || $1 || ')'", column);
        Assert.Equal(1, await IndexesOn("views"));
        Assert.Equal(1, await IndexesOn("status"));
        Assert.True((await _db.Cache.GetAsync(Ct)).Collection("posts")!.Field("views")!.Indexed);

        // a new type keeps the index; taking it back drops it; the reader agrees with the catalog each time
        var retyped = await Store.UpdateFieldAsync("posts", "views", Body("""{"type":"bigInteger"}"""), Ct);
        Assert.True(retyped.Indexed);
        Assert.Equal(1, await IndexesOn("views"));
        var plain = await Store.UpdateFieldAsync("posts", "status", Body("""{"schema":{"is_indexed":false}}"""), Ct);
        Assert.False(plain.Indexed);
        Assert.Equal(0, await IndexesOn("status"));
        await Assert.ThrowsAsync<DirectusException>(() => Store.CreateFieldAsync("posts", Body("""{"field":"bad","type":"string","schema":{"is_indexed":"yes"}}"""), Ct));
    }

    [Fact]
    public async Task A_missing_collection_or_field_is_forbidden_and_an_existing_name_is_refused()
    {
        await Store.CreateCollectionAsync(Body("""{"collection":"articles","schema":{}}"""), Ct);
        var again = await Assert.ThrowsAsync<DirectusException>(() => Store.CreateCollectionAsync(Body("""{"collection":"articles","schema":{}}"""), Ct));
        Assert.Equal("Invalid payload. Collection \"articles\" already exists.", again.Message);
        // A table that is not a collection (the outbox) can't be taken over either.
        await Assert.ThrowsAsync<DirectusException>(() => Store.CreateCollectionAsync(Body("""{"collection":"outbox_messages","schema":{}}"""), Ct));

        foreach (var call in new Func<Task>[]
        {
            () => Store.UpdateCollectionAsync("nope", Body("""{"meta":{}}"""), Ct),
            () => Store.DeleteCollectionAsync("nope", Ct),
            () => Store.CreateFieldAsync("nope", Body("""{"field":"a","type":"string"}"""), Ct),
            () => Store.UpdateFieldAsync("articles", "nope", Body("{}"), Ct),
            () => Store.DeleteFieldAsync("articles", "nope", Ct),
            () => Store.DeleteRelationAsync("articles", "nope", Ct),
        })
            Assert.Equal(403, (await Assert.ThrowsAsync<DirectusException>(call)).Status);
    }

    [Fact]
    public async Task Every_change_writes_one_outbox_row_and_bumps_the_version_in_its_transaction()
    {
        var before = await _db.VersionAsync();
        await Store.CreateCollectionAsync(Body("""{"collection":"articles","schema":{}}"""), Ct);
        await Store.CreateFieldAsync("articles", Body("""{"field":"title","type":"string"}"""), Ct);
        Assert.Equal(2, await _db.OutboxRowsAsync());
        Assert.Equal(before + 2, await _db.VersionAsync());
        Assert.Equal(before + 2, _db.Cache.Version);
        var payload = await _db.ScalarAsync<string>("select payload::text from outbox_messages order by created_at desc, id desc limit 1");
        Assert.Equal(before + 2, JsonNode.Parse(payload)!["Version"]!.GetValue<long>());
        Assert.Equal("articles", JsonNode.Parse(payload)!["Collection"]!.GetValue<string>());
    }
}
