using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Tests.Infrastructure;
using Npgsql;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Content.Schema;

/// <summary>Relations against a real PostgreSQL: m2o as a foreign key that really acts on delete, o2m and m2m in the snapshot.</summary>
[Collection(ServersCollection.Name)]
public sealed class RelationsTests(ServersFixture servers) : IAsyncLifetime
{
    private SchemaDatabase _db = null!;
    private SchemaStore Store => _db.Store;
    private static readonly CancellationToken Ct = CancellationToken.None;

    public async Task InitializeAsync()
    {
        _db = await SchemaDatabase.CreateAsync(servers, "relations");
        await Store.CreateCollectionAsync(Body("""{"collection":"authors","schema":{},"fields":[{"field":"name","type":"string"}]}"""), Ct);
        await Store.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"fields":[{"field":"title","type":"string"},{"field":"author","type":"integer","meta":{"special":["m2o"]}}]}
            """), Ct);
        await _db.ExecAsync("insert into authors (name) values ('ann'); insert into articles (title, author) values ('a1', 1)");
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Theory]
    [InlineData("SET NULL", "select author is null from articles")]
    [InlineData("CASCADE", "select count(*) = 0 from articles")]
    public async Task A_many_to_one_is_a_foreign_key_that_acts_on_delete(string onDelete, string check)
    {
        var relation = await Store.CreateRelationAsync(Body($$$"""
            {"collection":"articles","field":"author","related_collection":"authors","schema":{"on_delete":"{{{onDelete}}}"}}
            """), Ct);
        Assert.Equal((onDelete, "articles_author_foreign"), (relation.OnDelete, relation.ConstraintName));
        Assert.Equal("23503", (await Assert.ThrowsAsync<PostgresException>(() => _db.ExecAsync("insert into articles (author) values (42)"))).SqlState);

        await _db.ExecAsync("delete from authors");
        Assert.True(await _db.ScalarAsync<bool>(check));
    }

    [Fact]
    public async Task Changing_on_delete_rebuilds_the_foreign_key_and_restrict_refuses_the_delete()
    {
        await Store.CreateRelationAsync(Body("""{"collection":"articles","field":"author","related_collection":"authors"}"""), Ct);
        var updated = await Store.UpdateRelationAsync("articles", "author", Body("""{"schema":{"on_delete":"RESTRICT"},"meta":{"one_deselect_action":"delete"}}"""), Ct);
        Assert.Equal(("RESTRICT", "delete"), (updated.OnDelete, updated.OneDeselectAction));
        Assert.Equal("23503", (await Assert.ThrowsAsync<PostgresException>(() => _db.ExecAsync("delete from authors"))).SqlState);

        await Store.DeleteRelationAsync("articles", "author", Ct);
        await _db.ExecAsync("delete from authors");
        Assert.Null((await _db.Cache.GetAsync(Ct)).ManyToOne("articles", "author"));
        Assert.Equal(0, await _db.ScalarAsync<long>("select count(*) from pg_constraint where contype = 'f'"));
    }

    [Fact]
    public async Task A_one_to_many_creates_its_alias_and_loads_back_into_the_snapshot()
    {
        await Store.CreateRelationAsync(Body("""
            {"collection":"articles","field":"author","related_collection":"authors","meta":{"one_field":"articles","sort_field":"title"}}
            """), Ct);
        var schema = await _db.NewCache().GetAsync(Ct);
        var alias = schema.Collection("authors")!.Field("articles")!;
        Assert.True(alias.IsAlias);
        Assert.Equal(["o2m"], alias.Special);
        var o2m = schema.OneToMany("authors", "articles")!;
        Assert.Equal(("articles", "author", "title"), (o2m.Collection, o2m.Field, o2m.SortField));
        Assert.Same(o2m, schema.ManyToOne("articles", "author"));

        // Deleting the m2o takes its relation and the alias on the other side with it, as Directus does.
        await Store.DeleteFieldAsync("articles", "author", Ct);
        schema = await _db.Cache.GetAsync(Ct);
        Assert.Empty(UserRelations(schema));
        Assert.Null(schema.Collection("authors")!.Field("articles"));
    }

    [Fact]
    public async Task A_many_to_many_goes_through_a_junction_with_two_relations()
    {
        await Store.CreateCollectionAsync(Body("""{"collection":"tags","schema":{},"fields":[{"field":"label","type":"string"}]}"""), Ct);
        await Store.CreateCollectionAsync(Body("""
            {"collection":"articles_tags","schema":{},"meta":{"hidden":true},"fields":[{"field":"articles_id","type":"integer"},{"field":"tags_id","type":"integer"}]}
            """), Ct);
        await Store.CreateRelationAsync(Body("""
            {"collection":"articles_tags","field":"articles_id","related_collection":"articles","meta":{"one_field":"tags","junction_field":"tags_id"},"schema":{"on_delete":"CASCADE"}}
            """), Ct);
        await Store.CreateRelationAsync(Body("""
            {"collection":"articles_tags","field":"tags_id","related_collection":"tags","meta":{"junction_field":"articles_id"},"schema":{"on_delete":"CASCADE"}}
            """), Ct);

        var schema = await _db.NewCache().GetAsync(Ct);
        Assert.Equal(["m2m"], schema.Collection("articles")!.Field("tags")!.Special);
        var junction = schema.OneToMany("articles", "tags")!;
        Assert.Equal(("articles_tags", "articles_id", "tags_id"), (junction.Collection, junction.Field, junction.JunctionField));
        var other = schema.JunctionOther(junction)!;
        Assert.Equal(("tags_id", "tags", "articles_id"), (other.Field, other.RelatedCollection, other.JunctionField));

        // Deleting a side drops the junction column that points at it with its relation, as Directus does.
        await Store.DeleteCollectionAsync("tags", Ct);
        Assert.False(await _db.TableExistsAsync("tags"));
        Assert.False((await _db.ColumnsAsync("articles_tags")).ContainsKey("tags_id"));
        schema = await _db.Cache.GetAsync(Ct);
        Assert.Single(UserRelations(schema));
        Assert.Equal(0, await _db.SystemRowsAsync("tags"));
    }

    [Fact]
    public async Task Deleting_a_related_collection_drops_the_foreign_key_columns_that_point_at_it()
    {
        await Store.CreateRelationAsync(Body("""{"collection":"articles","field":"author","related_collection":"authors","meta":{"one_field":"articles"}}"""), Ct);
        await Store.DeleteCollectionAsync("authors", Ct);
        Assert.False(await _db.TableExistsAsync("authors"));
        Assert.Equal(["id", "title"], (await _db.ColumnsAsync("articles")).Keys.Order());
        Assert.Equal(0, await _db.SystemRowsAsync("authors"));
        Assert.Empty(UserRelations(await _db.Cache.GetAsync(Ct)));
    }

    [Fact]
    public async Task A_relation_is_refused_for_a_missing_collection_field_or_an_existing_relation()
    {
        async Task<string> Refused(string json) =>
            (await Assert.ThrowsAsync<DirectusException>(() => Store.CreateRelationAsync(Body(json), Ct))).Message;
        Assert.Contains("Collection \"people\" doesn't exist", await Refused("""{"collection":"articles","field":"author","related_collection":"people"}"""));
        Assert.Contains("Field \"writer\" doesn't exist in collection \"articles\"", await Refused("""{"collection":"articles","field":"writer","related_collection":"authors"}"""));
        Assert.Contains("\"schema.on_delete\" must be one of", await Refused("""{"collection":"articles","field":"author","related_collection":"authors","schema":{"on_delete":"DROP TABLE"}}"""));
        Assert.Contains("must start with", await Refused("""{"collection":"articles","field":"author","related_collection":"authors","meta":{"one_field":"x\"; drop"}}"""));
        await Store.CreateRelationAsync(Body("""{"collection":"articles","field":"author","related_collection":"authors"}"""), Ct);
        Assert.Contains("already has an associated relationship", await Refused("""{"collection":"articles","field":"author","related_collection":"authors"}"""));
    }

    /// <summary>The relations a test made: the snapshot also holds the system collections' own (<c>directus_files.folder</c>, …).</summary>
    private static List<RelationSchema> UserRelations(SchemaSnapshot schema) =>
        schema.Relations.Where(r => !AiAssistant.Services.Tools.Content.Files.FileTables.IsSystem(r.Collection)).ToList();
}
