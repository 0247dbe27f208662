using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Tests.Infrastructure;
using Npgsql;
using Xunit;
using static AiAssistant.Tests.Content.Query.ContentTestSchema;

namespace AiAssistant.Tests.Content.Query;

/// <summary>Compiled queries run against a real PostgreSQL holding the test blog, one fresh database per test class.</summary>
[Collection(ServersCollection.Name)]
public sealed class ItemsQueryDatabaseTests(ServersFixture servers) : IAsyncLifetime
{
    private readonly string _database = "content_query_" + Guid.NewGuid().ToString("N")[..8];
    private NpgsqlDataSource _data = null!;
    private static readonly ItemsQueryCompiler Compiler = new(Snapshot);

    public async Task InitializeAsync()
    {
        await servers.Postgres.EnsureDatabasesAsync([_database]);
        _data = new NpgsqlDataSourceBuilder(servers.ConnectionString(_database)).Build();
        await using var cmd = _data.CreateCommand(Sql);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _data.DisposeAsync();

    private async Task<List<JsonObject>> Rows(SqlStatement statement)
    {
        await using var cmd = statement.CreateCommand(_data);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<JsonObject>();
        while (await reader.ReadAsync()) rows.Add(JsonNode.Parse(reader.GetString(0))!.AsObject());
        return rows;
    }

    private async Task<long> Count(SqlStatement statement)
    {
        await using var cmd = statement.CreateCommand(_data);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private Task<List<JsonObject>> Read(string query, string collection = "articles", ICollectionAccess? access = null) =>
        Rows(Compiler.Compile(collection, QueryParser.Parse(QueryString(query)), access ?? FullAccess.Instance, Context).Items);

    private async Task<int[]> Ids(string filter, string collection = "articles") =>
        (await Read("?fields=id&filter=" + Uri.EscapeDataString(filter), collection)).Select(r => r["id"]!.GetValue<int>()).ToArray();

    [Theory]
    [InlineData("""{"title":{"_eq":"Hello World"}}""", new[] { 1 })]
    [InlineData("""{"status":{"_neq":"draft"}}""", new[] { 1, 3 })]
    [InlineData("""{"views":{"_lt":50}}""", new[] { 3 })]
    [InlineData("""{"views":{"_lte":50}}""", new[] { 2, 3 })]
    [InlineData("""{"views":{"_gt":50}}""", new[] { 1 })]
    [InlineData("""{"views":{"_gte":"50"}}""", new[] { 1, 2 })]
    [InlineData("""{"id":{"_in":[1,3]}}""", new[] { 1, 3 })]
    [InlineData("""{"id":{"_in":"2,4"}}""", new[] { 2, 4 })]
    [InlineData("""{"status":{"_nin":["draft"]}}""", new[] { 1, 3 })]
    [InlineData("""{"author":{"_null":true}}""", new[] { 3 })]
    [InlineData("""{"author":{"_nnull":true}}""", new[] { 1, 2, 4 })]
    [InlineData("""{"title":{"_contains":"llo"}}""", new[] { 1, 3 })]
    [InlineData("""{"title":{"_contains":"%"}}""", new[] { 2 })]
    [InlineData("""{"title":{"_contains":"_"}}""", new[] { 2 })]
    [InlineData("""{"title":{"_contains":"\\"}}""", new[] { 4 })]
    [InlineData("""{"title":{"_ncontains":"llo"}}""", new[] { 2, 4 })]
    [InlineData("""{"title":{"_icontains":"HELLO"}}""", new[] { 1, 3 })]
    [InlineData("""{"title":{"_nicontains":"HELLO"}}""", new[] { 2, 4 })]
    [InlineData("""{"title":{"_starts_with":"Hello"}}""", new[] { 1 })]
    [InlineData("""{"title":{"_nstarts_with":"Hello"}}""", new[] { 2, 3, 4 })]
    [InlineData("""{"title":{"_istarts_with":"hello"}}""", new[] { 1, 3 })]
    [InlineData("""{"title":{"_nistarts_with":"hello"}}""", new[] { 2, 4 })]
    [InlineData("""{"title":{"_ends_with":"again"}}""", new[] { 3 })]
    [InlineData("""{"title":{"_nends_with":"again"}}""", new[] { 1, 2, 4 })]
    [InlineData("""{"title":{"_iends_with":"WORLD"}}""", new[] { 1 })]
    [InlineData("""{"title":{"_niends_with":"WORLD"}}""", new[] { 2, 3, 4 })]
    [InlineData("""{"price":{"_between":[5,11]}}""", new[] { 1, 2 })]
    [InlineData("""{"price":{"_nbetween":"5,11"}}""", new[] { 3 })]
    [InlineData("""{"body":{"_empty":true}}""", new[] { 2, 3 })]
    [InlineData("""{"body":{"_nempty":true}}""", new[] { 1, 4 })]
    [InlineData("""{"published":{"_eq":false}}""", new[] { 2 })]
    [InlineData("""{"published_on":{"_gte":"2024-02-01"}}""", new[] { 2, 3 })]
    [InlineData("""{"created_at":{"_lt":"2024-02-01T00:00:00Z"}}""", new[] { 1 })]
    [InlineData("""{"created_at":{"_lt":"$NOW"}}""", new[] { 1, 2, 3 })]
    [InlineData("""{"created_at":{"_gt":"$NOW(-1 day)"}}""", new int[0])]
    [InlineData("""{"ref":{"_eq":"6f1c1a0e-6a43-4a4e-9d5e-3f5d7c0b8a11"}}""", new[] { 1 })]
    [InlineData("""{"big":{"_eq":"9007199254740993"}}""", new[] { 1 })]
    [InlineData("""{"_or":[{"views":{"_eq":0}},{"_and":[{"published":{"_eq":true}},{"views":{"_gt":99}}]}]}""", new[] { 1, 3 })]
    [InlineData("""{"author":{"name":{"_eq":"Ann"}}}""", new[] { 1, 4 })]
    [InlineData("""{"comments":{"_some":{"text":{"_eq":"Meh"}}}}""", new[] { 2 })]
    [InlineData("""{"comments":{"_none":{"owner":{"_eq":"u1"}}}}""", new[] { 3, 4 })]
    [InlineData("""{"comments":{"owner":{"_eq":"u2"}}}""", new[] { 1 })]
    [InlineData("""{"tags":{"_some":{"tags_id":{"name":{"_eq":"tech"}}}}}""", new[] { 1, 2 })]
    [InlineData("""{"comments":{"_some":{"owner":{"_eq":"$CURRENT_USER"}}}}""", new int[0])]
    public async Task Each_operator_matches_directus(string filter, int[] expected) =>
        Assert.Equal(expected, await Ids(filter));

    [Fact]
    public async Task Values_come_back_with_directus_json_types()
    {
        var item = (await Read("?filter[id][_eq]=1"))[0];
        Assert.Equal(100, item["views"]!.GetValue<int>());
        Assert.Equal("9007199254740993", item["big"]!.GetValue<string>());
        Assert.Equal("10.50", item["price"]!.GetValue<string>());
        Assert.Equal(4.5, item["rating"]!.GetValue<double>());
        Assert.True(item["published"]!.GetValue<bool>());
        Assert.Equal("2024-01-15", item["published_on"]!.GetValue<string>());
        Assert.Equal("2024-01-15T10:00:00.000Z", item["created_at"]!.GetValue<string>());
        Assert.Equal("2024-01-15T11:30:00", item["local_at"]!.GetValue<string>());
        Assert.Equal("09:15:00", item["opens"]!.GetValue<string>());
        Assert.Equal("""{"n":1,"tags":["a"]}""", item["extra"]!.ToJsonString());
        Assert.Equal("""["red","blue"]""", item["keywords"]!.ToJsonString());
        Assert.Equal(1, item["author"]!.GetValue<int>());
        Assert.Equal([1, 2], item["comments"]!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal([1, 2], item["tags"]!.AsArray().Select(n => n!.GetValue<int>()));
    }

    [Fact]
    public async Task Relational_fields_nest_and_star_star_expands_one_level()
    {
        var item = (await Read("?fields=title,author.name,comments.text,tags.tags_id.name&filter[id][_eq]=1"))[0];
        Assert.Equal("""{"title":"Hello World","author":{"name":"Ann"},"comments":[{"text":"Nice"},{"text":"Great"}],"tags":[{"tags_id":{"name":"news"}},{"tags_id":{"name":"tech"}}]}""",
            item.ToJsonString());
        var star = (await Read("?fields=*.*&filter[id][_eq]=2"))[0];
        Assert.Equal("Bob", star["author"]!["name"]!.GetValue<string>());
        Assert.Equal("Meh", star["comments"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(2, star["tags"]![0]!["tags_id"]!.GetValue<int>());
        Assert.Null((await Read("?fields=author.name&filter[id][_eq]=3"))[0]["author"]);
    }

    /// <summary>
    /// Many-to-ones are joins of their level (<see cref="SelectionCompiler"/>): a chain joins in order, one inside a
    /// one-to-many's rows joins inside that subquery, a missing link is null, and deep's filter on a many-to-one
    /// makes it null where the related row does not match, without dropping the row that holds it.
    /// </summary>
    [Fact]
    public async Task Many_to_one_chains_nest_at_every_level_and_a_deep_filter_only_nulls_the_related_item()
    {
        var comments = await Read("?fields=id,text,article.title,article.author.name&sort=id", "comments");
        Assert.Equal("""[{"id":1,"text":"Nice","article":{"title":"Hello World","author":{"name":"Ann"}}},{"id":2,"text":"Great","article":{"title":"Hello World","author":{"name":"Ann"}}},{"id":3,"text":"Meh","article":{"title":"50% off_sale","author":{"name":"Bob"}}}]""",
            new JsonArray(comments.Select(c => (JsonNode)c.DeepClone()).ToArray()).ToJsonString());

        var nested = (await Read("?fields=id,comments.article.author.name,author.name&filter[id][_eq]=2"))[0];
        Assert.Equal("""{"id":2,"comments":[{"article":{"author":{"name":"Bob"}}}],"author":{"name":"Bob"}}""", nested.ToJsonString());

        var filtered = await Read("?fields=id,author.name&deep[author][_filter][name][_eq]=Ann&sort=id");
        Assert.Equal([1, 2, 3, 4], filtered.Select(r => r["id"]!.GetValue<int>()));
        Assert.Equal(["Ann", null, null, "Ann"], filtered.Select(r => r["author"]?["name"]?.GetValue<string>()));
    }

    [Fact]
    public async Task Sort_through_m2o_limit_offset_page()
    {
        var byAuthor = await Read("?fields=id&sort=author.name,-id");
        Assert.Equal([4, 1, 2, 3], byAuthor.Select(r => r["id"]!.GetValue<int>()));
        var page = await Read("?fields=id&sort=-views&limit=2&page=2"); // PostgreSQL puts nulls first when descending
        Assert.Equal([2, 3], page.Select(r => r["id"]!.GetValue<int>()));
        var offset = await Read("?fields=id&limit=1&offset=1");
        Assert.Equal([2], offset.Select(r => r["id"]!.GetValue<int>()));
        Assert.Equal(4, (await Read("?fields=id&limit=-1")).Count);
    }

    /// <summary>Rows that tie on the sort keys come in primary-key order, so pages over them neither repeat nor skip one.</summary>
    [Fact]
    public async Task Ties_on_the_sort_keys_keep_primary_key_order_across_pages()
    {
        Assert.Equal([2, 1, 3, 4], (await Read("?fields=id&sort=status")).Select(r => r["id"]!.GetValue<int>()));
        Assert.Equal([4, 1, 3, 2], (await Read("?fields=id&sort=-status")).Select(r => r["id"]!.GetValue<int>())); // nulls first when descending
        var pages = new List<int>();
        for (var page = 1; page <= 4; page++)
            pages.AddRange((await Read($"?fields=id&sort=status&limit=1&page={page}")).Select(r => r["id"]!.GetValue<int>()));
        Assert.Equal([2, 1, 3, 4], pages);
        Assert.EndsWith("ORDER BY t0.\"status\" ASC, t0.\"id\" ASC",
            Compiler.Compile("articles", QueryParser.Parse(QueryString("?sort=status&limit=-1")), FullAccess.Instance, Context).Items.Text);
    }

    [Fact]
    public async Task Search_matches_text_case_insensitively_and_numbers_exactly()
    {
        Assert.Equal([1, 3], (await Read("?fields=id&search=HELLO")).Select(r => r["id"]!.GetValue<int>()));
        Assert.Equal([2], (await Read("?fields=id&search=50")).Select(r => r["id"]!.GetValue<int>()));
        Assert.Equal([1], (await Read("?fields=id&search=6f1c1a0e-6a43-4a4e-9d5e-3f5d7c0b8a11")).Select(r => r["id"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Meta_counts_the_visible_rows_and_the_matching_ones()
    {
        var access = new DelegateAccess(c => c == "articles"
            ? new CollectionReadAccess(new FieldCondition("author", FilterOperator.Nnull, JsonValue.Create(true)))
            : CollectionReadAccess.Everything);
        var q = Compiler.Compile("articles", QueryParser.Parse(QueryString("?meta=*&filter[published][_eq]=true")), access, Context);
        Assert.Equal(3, await Count(q.TotalCount!));
        Assert.Equal(1, await Count(q.FilterCount!));
        Assert.Single(await Rows(q.Items));
    }

    [Fact]
    public async Task Aggregate_and_group_by_in_directus_shape()
    {
        var all = await Read("?aggregate[count]=*&aggregate[sum]=views,price&aggregate[avg]=views&aggregate[countDistinct]=author&aggregate[max]=created_at");
        Assert.Equal("""{"count":4,"sum":{"views":150,"price":"35.75"},"avg":{"views":50},"countDistinct":{"author":2},"max":{"created_at":"2025-02-10T23:59:59.123Z"}}""",
            all.Single().ToJsonString());
        var grouped = await Read("?aggregate[count]=*&groupBy=author&sort=author&filter[author][_nnull]=true");
        Assert.Equal("""[{"count":2,"author":1},{"count":1,"author":2}]""", new JsonArray(grouped.Select(g => (JsonNode)g.DeepClone()).ToArray()).ToJsonString());
        var byYear = await Read("?aggregate[count]=id&groupBy=year(published_on)&sort=published_on_year&filter[published_on][_nnull]=true");
        Assert.Equal("""[{"count":{"id":2},"published_on_year":2024},{"count":{"id":1},"published_on_year":2025}]""",
            new JsonArray(byYear.Select(g => (JsonNode)g.DeepClone()).ToArray()).ToJsonString());
    }

    [Fact]
    public async Task Deep_filters_sorts_and_limits_nested_rows_and_alias_reads_a_relation_twice()
    {
        var item = (await Read("?fields=id,comments.text,first.text&alias[first]=comments&deep[comments][_sort]=-text&deep[first][_limit]=1&deep[first][_filter][owner][_eq]=u2&filter[id][_eq]=1"))[0];
        Assert.Equal(["Nice", "Great"], item["comments"]!.AsArray().Select(c => c!["text"]!.GetValue<string>()));
        Assert.Equal(["Great"], item["first"]!.AsArray().Select(c => c!["text"]!.GetValue<string>()));
        var tags = (await Read("?fields=tags.tags_id.name&deep[tags][_filter][tags_id][name][_eq]=news&filter[id][_eq]=1"))[0];
        Assert.Equal("""[{"tags_id":{"name":"news"}}]""", tags["tags"]!.ToJsonString());
    }

    [Fact]
    public async Task Permissions_limit_rows_and_fields_at_every_level()
    {
        var access = new DelegateAccess(c => c switch
        {
            "articles" => new CollectionReadAccess(Fields: new HashSet<string> { "id", "title", "author", "comments", "tags" }),
            "authors" => new CollectionReadAccess(new FieldCondition("name", FilterOperator.Neq, JsonValue.Create("Bob")), new HashSet<string> { "id", "name" }),
            "comments" => new CollectionReadAccess(new FieldCondition("owner", FilterOperator.Eq, JsonValue.Create("$CURRENT_USER"))),
            _ => null,
        });
        var context = Context with { UserId = "u1" };
        async Task<List<JsonObject>> As(string query) =>
            await Rows(Compiler.Compile("articles", QueryParser.Parse(QueryString(query)), access, context).Items);

        var rows = await As("?fields=*.*&sort=id");
        Assert.Equal(["author", "comments", "id", "title"], rows[0].Select(p => p.Key).Order());
        Assert.Equal("""{"id":1,"name":"Ann"}""", rows[0]["author"]!.ToJsonString());
        Assert.Null(rows[1]["author"]); // Bob is outside the authors row filter
        Assert.Equal(["Nice"], rows[0]["comments"]!.AsArray().Select(c => c!["text"]!.GetValue<string>()));
        Assert.DoesNotContain("secret", rows.Select(r => r.ToJsonString()).Aggregate(string.Concat));

        Assert.Empty(await As("?fields=id&filter[author][name][_eq]=Bob"));
        Assert.Equal([1, 2], (await As("?fields=id&filter[comments][_some][text][_icontains]=e")).Select(r => r["id"]!.GetValue<int>()));
        Assert.Empty(await As("?fields=id&filter[comments][_some][text][_eq]=Great")); // u2's comment is invisible to u1
        foreach (var forbidden in new[] { "?fields=views", "?fields=author.secret", "?fields=tags.id", "?filter[tags][_some][id][_eq]=1", "?sort=author.email" })
            Assert.Equal(403, (await Assert.ThrowsAsync<DirectusException>(() => As(forbidden))).Status);
    }

    [Fact]
    public async Task A_field_one_policy_grants_shows_only_on_the_rows_that_policy_admits()
    {
        // policy 1: published articles, id and title; policy 2: Ann's articles, views and author too (Directus 11)
        var reply = new AiAssistant.Contracts.Access.GetPermissionsReply();
        reply.Permissions.Add(new AiAssistant.Contracts.Access.Permission
        {
            Collection = "articles", Action = "read", HasFields = true, Fields = { "id", "title" }, PermissionsJson = """{"status":{"_eq":"published"}}""",
        });
        reply.Permissions.Add(new AiAssistant.Contracts.Access.Permission
        {
            Collection = "articles", Action = "read", HasFields = true, Fields = { "id", "title", "views", "author" }, PermissionsJson = """{"author":{"_eq":1}}""",
        });
        var access = AiAssistant.Services.Tools.Content.Permissions.CallerPermissions.From(reply);
        async Task<List<JsonObject>> As(string query) =>
            await Rows(Compiler.Compile("articles", QueryParser.Parse(QueryString(query)), access, Context).Items);
        static int?[] Column(List<JsonObject> rows, string field) => rows.Select(r => r[field]?.GetValue<int?>()).ToArray();

        var rows = await As("?fields=id,views&sort=id");
        Assert.Equal([1, 3, 4], Column(rows, "id")); // 2 is a draft of Bob's: neither policy admits it
        Assert.Equal([100, null, null], Column(rows, "views")); // article 3 has 0 views, hidden: it is not Ann's
        Assert.Equal(new[] { "id", "title", "views", "author" }.Order(), (await As("?sort=id"))[0].Select(p => p.Key).Order());
        // the hidden value cannot be probed through a filter, a search, a sort or an aggregate either
        Assert.Empty(await As("?fields=id&filter[views][_eq]=0"));
        Assert.Equal([3, 4], Column(await As("?fields=id&filter[views][_null]=true&sort=id"), "id"));
        Assert.Empty(await As("?fields=id&search=0"));
        Assert.Equal([1, 3, 4], Column(await As("?fields=id&sort=views,id"), "id")); // 3's 0 views would sort first
        Assert.Equal(1, (await As("?aggregate[count]=views"))[0]["count"]!["views"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_injection_attempt_leaves_the_tables_intact()
    {
        const string evil = "x'); DROP TABLE articles; --";
        Assert.Empty(await Read("?filter[title][_eq]=" + Uri.EscapeDataString(evil) + "&search=" + Uri.EscapeDataString(evil)));
        await Assert.ThrowsAsync<DirectusException>(() => Read("?fields=" + Uri.EscapeDataString("id\" FROM articles; DROP TABLE articles; --")));
        var key = "a'); DROP TABLE articles; --";
        Assert.Equal(4, (await Read("?alias[" + Uri.EscapeDataString(key) + "]=title&fields=" + Uri.EscapeDataString(key))).Count(r => r.ContainsKey(key)));
        Assert.Equal(4, (await Read("?fields=id")).Count);
    }

    [Fact]
    public async Task An_alias_key_with_quotes_is_a_parameter_not_sql()
    {
        var item = (await Read("?fields=" + Uri.EscapeDataString("x'y") + "&alias[" + Uri.EscapeDataString("x'y") + "]=title&filter[id][_eq]=1"))[0];
        Assert.Equal("Hello World", item["x'y"]!.GetValue<string>());
    }
}
