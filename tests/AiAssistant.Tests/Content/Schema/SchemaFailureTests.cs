using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Content.Schema;

/// <summary>A schema change that fails leaves no table, column, constraint, system row, version or outbox row behind.</summary>
[Collection(ServersCollection.Name)]
public sealed class SchemaFailureTests(ServersFixture servers) : IAsyncLifetime
{
    private SchemaDatabase _db = null!;
    private SchemaStore Store => _db.Store;
    private static readonly CancellationToken Ct = CancellationToken.None;

    public async Task InitializeAsync()
    {
        _db = await SchemaDatabase.CreateAsync(servers, "schemafail");
        await Store.CreateCollectionAsync(Body("""{"collection":"authors","schema":{},"fields":[{"field":"name","type":"string"}]}"""), Ct);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<DirectusException> RefusedWithNothingLeftAsync(Func<Task> change, string code = ErrorCodes.InvalidPayload)
    {
        var (version, outbox) = (await _db.VersionAsync(), await _db.OutboxRowsAsync());
        var columns = await _db.ColumnsAsync("authors");
        var constraints = await _db.ScalarAsync<long>("select count(*) from pg_constraint");
        var rows = await _db.ScalarAsync<long>("select (select count(*) from content_collections) + (select count(*) from content_fields) + (select count(*) from content_relations)");

        var error = await Assert.ThrowsAsync<DirectusException>(change);
        Assert.Equal(400, error.Status);
        Assert.Equal(code, error.Code);
        Assert.Equal((version, outbox), (await _db.VersionAsync(), await _db.OutboxRowsAsync()));
        Assert.Equal(columns, await _db.ColumnsAsync("authors"));
        Assert.Equal(constraints, await _db.ScalarAsync<long>("select count(*) from pg_constraint"));
        Assert.Equal(rows, await _db.ScalarAsync<long>("select (select count(*) from content_collections) + (select count(*) from content_fields) + (select count(*) from content_relations)"));
        Assert.False(await _db.TableExistsAsync("articles"));
        return error;
    }

    [Fact]
    public async Task A_default_that_postgresql_refuses_rolls_back_the_whole_collection()
    {
        // The table and the first fields are created before PostgreSQL refuses the last default.
        var error = await RefusedWithNothingLeftAsync(() => Store.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"fields":[{"field":"title","type":"string","schema":{"is_unique":true}},{"field":"views","type":"integer","schema":{"default_value":"many"}}]}
            """), Ct));
        Assert.Contains("Field \"views\"", error.Message);
        Assert.Equal("views", error.Extensions!["field"]);
    }

    [Fact]
    public async Task A_default_of_the_wrong_json_type_or_a_bad_date_is_refused()
    {
        await RefusedWithNothingLeftAsync(() => Store.CreateFieldAsync("authors", Body("""{"field":"active","type":"boolean","schema":{"default_value":"yes"}}"""), Ct));
        await RefusedWithNothingLeftAsync(() => Store.CreateFieldAsync("authors", Body("""{"field":"born","type":"date","schema":{"default_value":"not a date"}}"""), Ct));
        await RefusedWithNothingLeftAsync(() => Store.CreateFieldAsync("authors", Body("""{"field":"n","type":"integer","schema":{"default_value":[1]}}"""), Ct));
    }

    [Fact]
    public async Task A_duplicate_field_an_unknown_type_or_a_second_key_is_refused()
    {
        var duplicate = await RefusedWithNothingLeftAsync(() => Store.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"fields":[{"field":"title","type":"string"},{"field":"title","type":"text"}]}
            """), Ct));
        Assert.Contains("Field \"title\" is given twice", duplicate.Message);
        var type = await RefusedWithNothingLeftAsync(() => Store.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"fields":[{"field":"title","type":"varchar"}]}
            """), Ct));
        Assert.Contains("\"type\" must be one of string, text, integer", type.Message);
        await RefusedWithNothingLeftAsync(() => Store.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"fields":[{"field":"a","type":"integer","schema":{"is_primary_key":true}},{"field":"b","type":"integer","schema":{"is_primary_key":true}}]}
            """), Ct));
    }

    [Fact]
    public async Task A_relation_to_a_missing_collection_or_between_different_types_leaves_nothing()
    {
        await Store.CreateCollectionAsync(Body("""{"collection":"posts","schema":{},"fields":[{"field":"author","type":"string"}]}"""), Ct);
        await RefusedWithNothingLeftAsync(() => Store.CreateRelationAsync(Body("""
            {"collection":"posts","field":"author","related_collection":"articles","meta":{"one_field":"posts"}}
            """), Ct));
        // The alias on authors is written before PostgreSQL refuses a varchar foreign key to an integer key.
        var mismatch = await RefusedWithNothingLeftAsync(() => Store.CreateRelationAsync(Body("""
            {"collection":"posts","field":"author","related_collection":"authors","meta":{"one_field":"posts"}}
            """), Ct));
        Assert.Contains("Field \"author\"", mismatch.Message);
    }

    [Fact]
    public async Task Making_a_column_required_or_unique_fails_on_existing_nulls_and_duplicates()
    {
        await _db.ExecAsync("insert into authors (name) values (null), ('x'), ('x')");
        var nulls = await RefusedWithNothingLeftAsync(() => Store.UpdateFieldAsync("authors", "name", Body("""{"schema":{"is_nullable":false}}"""), Ct),
            ErrorCodes.ContainsNullValues);
        Assert.Equal("name", nulls.Extensions!["field"]);
        var duplicates = await RefusedWithNothingLeftAsync(() => Store.UpdateFieldAsync("authors", "name", Body("""{"schema":{"is_unique":true}}"""), Ct),
            ErrorCodes.RecordNotUnique);
        Assert.Equal("name", duplicates.Extensions!["field"]);
        await RefusedWithNothingLeftAsync(() => Store.UpdateFieldAsync("authors", "name", Body("""{"schema":{"max_length":0}}"""), Ct));
    }

    [Theory]
    [InlineData("articles\"; drop table authors; --")]
    [InlineData("Articles")]
    [InlineData("1articles")]
    [InlineData("art icles")]
    [InlineData("content_collections")]
    [InlineData("directus_users")]
    [InlineData("")]
    public async Task Collection_names_with_quotes_semicolons_capitals_or_system_prefixes_are_refused(string name)
    {
        var body = new System.Text.Json.Nodes.JsonObject { ["collection"] = name, ["schema"] = new System.Text.Json.Nodes.JsonObject() };
        var error = await RefusedWithNothingLeftAsync(() => Store.CreateCollectionAsync(body, Ct));
        Assert.Equal("collection", error.Extensions!["field"]);
        Assert.True(await _db.TableExistsAsync("authors"));
    }

    [Theory]
    [InlineData("name\"; drop table authors; --")]
    [InlineData("x'y")]
    [InlineData("a-b")]
    public async Task Field_names_that_are_not_plain_identifiers_are_refused(string name)
    {
        var body = new System.Text.Json.Nodes.JsonObject { ["field"] = name, ["type"] = "string" };
        await RefusedWithNothingLeftAsync(() => Store.CreateFieldAsync("authors", body, Ct));
        await Assert.ThrowsAsync<DirectusException>(() => Store.CreateCollectionAsync(new System.Text.Json.Nodes.JsonObject
        {
            ["collection"] = "articles", ["schema"] = new System.Text.Json.Nodes.JsonObject(), ["fields"] = new System.Text.Json.Nodes.JsonArray(body.DeepClone()),
        }, Ct));
    }
}
