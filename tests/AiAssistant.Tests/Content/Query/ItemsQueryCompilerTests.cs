using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using Xunit;
using static AiAssistant.Tests.Content.Query.ContentTestSchema;

namespace AiAssistant.Tests.Content.Query;

/// <summary>The SQL the compiler writes: identifiers only from the schema and quoted, values only as parameters.</summary>
public sealed class ItemsQueryCompilerTests
{
    private static readonly ItemsQueryCompiler Compiler = new(Snapshot, new QueryLimits(MaxLimit: 500));

    private static CompiledItemsQuery Compile(string query, string collection = "articles", ICollectionAccess? access = null) =>
        Compiler.Compile(collection, QueryParser.Parse(QueryString(query)), access ?? FullAccess.Instance, Context);

    private static DirectusException Fails(string query, string collection = "articles", ICollectionAccess? access = null) =>
        Assert.Throws<DirectusException>(() => Compile(query, collection, access));

    [Fact]
    public void A_filtered_sorted_read_quotes_identifiers_and_parameterises_values()
    {
        var items = Compile("?fields=title,author.name&filter[title][_eq]=x&sort=-author.name&limit=10&offset=20").Items;
        Assert.Contains("FROM \"articles\" t0", items.Text);
        Assert.Contains("t0.\"title\" = $1::text", items.Text);
        Assert.Contains("FROM \"authors\"", items.Text);
        Assert.Contains("DESC", items.Text);
        Assert.Equal("x", items.Parameters[0].Value);
        Assert.Contains(10, items.Parameters.Select(p => p.Value));
        Assert.Contains(20, items.Parameters.Select(p => p.Value));
        Assert.DoesNotContain("'x'", items.Text);
    }

    [Fact]
    public void A_value_that_looks_like_sql_is_only_a_parameter()
    {
        const string evil = "'; DROP TABLE articles; --";
        var items = Compile("?filter[title][_contains]=" + Uri.EscapeDataString(evil) + "&search=" + Uri.EscapeDataString(evil)).Items;
        Assert.DoesNotContain("DROP", items.Text);
        Assert.Contains(items.Parameters, p => p.Value is string s && s.Contains("DROP TABLE"));
    }

    [Theory]
    [InlineData("?fields=title\"; drop table x; --", "title\"; drop table x; --")]
    [InlineData("?filter[title\"; drop table x; --][_eq]=1", "title\"; drop table x; --")]
    [InlineData("?sort=nope", "nope")]
    [InlineData("?aggregate[sum]=nope", "nope")]
    [InlineData("?fields=author.nope", "nope")]
    public void An_identifier_not_in_the_schema_is_forbidden_like_an_unreadable_one(string query, string field)
    {
        var e = Fails(query);
        Assert.Equal((403, ErrorCodes.Forbidden), (e.Status, e.Code));
        Assert.Contains($"field \"{field}\"", e.Message);
        Assert.EndsWith("or it does not exist.", e.Message);
    }

    [Fact]
    public void An_unknown_collection_and_an_unreadable_one_look_the_same()
    {
        var unknown = Fails("?", "nope");
        var hidden = Fails("?", "authors", new DelegateAccess(c => c == "authors" ? null : CollectionReadAccess.Everything));
        Assert.Equal(403, unknown.Status);
        Assert.Equal("You don't have permission to access collection \"nope\" or it does not exist.", unknown.Message);
        Assert.Equal("You don't have permission to access collection \"authors\" or it does not exist.", hidden.Message);
    }

    [Fact]
    public void An_unreadable_field_is_forbidden_and_star_leaves_it_out()
    {
        var access = new DelegateAccess(c => c == "authors" ? new CollectionReadAccess(Fields: new HashSet<string> { "id", "name" }) : CollectionReadAccess.Everything);
        var e = Fails("?fields=secret", "authors", access);
        Assert.Equal("You don't have permission to access field \"secret\" in collection \"authors\" or it does not exist.", e.Message);
        Assert.Equal(403, Fails("?filter[secret][_eq]=s1", "authors", access).Status);
        Assert.Equal(403, Fails("?fields=author.secret", "articles", access).Status);
        Assert.Equal(403, Fails("?filter[author][secret][_eq]=s1", "articles", access).Status);
        Assert.Equal(403, Fails("?sort=author.secret", "articles", access).Status);
        var star = Compile("?fields=*", "authors", access).Items.Text;
        Assert.Contains("'name'", star);
        Assert.DoesNotContain("secret", star);
    }

    [Theory]
    [InlineData("?filter[views][_eq]=abc", "Invalid query. \"abc\" is not a valid integer for \"_eq\" on \"views\" in \"articles\".")]
    [InlineData("?filter[published][_eq]=perhaps", "Invalid query. \"perhaps\" is not a valid boolean for \"_eq\" on \"published\" in \"articles\".")]
    [InlineData("?filter[published_on][_gt]=soon", "Invalid query. \"soon\" is not a valid date for \"_gt\" on \"published_on\" in \"articles\".")]
    [InlineData("?filter[comments][_eq]=1", "Invalid query. \"comments\" in \"articles\" has no value of its own: filter its related items with _some or _none.")]
    [InlineData("?filter[author][_some][name][_eq]=x", "Invalid query. \"_some\" and \"_none\" need a one-to-many or many-to-many field; \"author\" is many-to-one: filter its fields directly.")]
    [InlineData("?filter[title][name][_eq]=x", "Invalid query. \"title\" in \"articles\" is not a relational field, so it takes operators such as {\"_eq\":…}, not nested fields.")]
    [InlineData("?sort=comments.text", "Invalid query. \"comments.text\" cannot be sorted by: \"comments\" is not a many-to-one field. Sort through many-to-one fields only.")]
    [InlineData("?fields=title.x", "Invalid query. \"title\" in \"articles\" is not a relational field, so it has no nested fields.")]
    [InlineData("?fields=comments.article.comments.article.comments.article.comments.article.comments.article.comments.article", "Invalid query. \"fields\" entry \"comments.article.comments.article.comments.article.comments.article.comments.article.comments.article\" goes deeper than 10 relations.")]
    [InlineData("?limit=1000", "Invalid query. \"limit\" can't be more than 500.")]
    [InlineData("?aggregate[sum]=title", "Invalid query. \"sum\" needs a numeric field; \"title\" is string.")]
    [InlineData("?groupBy=year(title)", "Invalid query. \"groupBy\" year(title) needs a date or time field; \"title\" is string.")]
    [InlineData("?aggregate[count]=*&sort=title", "Invalid query. \"sort\" on an aggregate can only use its groupBy fields; \"title\" is not one of them.")]
    [InlineData("?deep[author][_limit]=1&fields=author.name", "Invalid query. \"deep[author]\" is a many-to-one: it reads one item, so only _filter applies.")]
    [InlineData("?alias[title]=body&fields=title", "Invalid query. \"alias[title]\" has the name of a field of \"articles\"; choose another name.")]
    public void Misuse_of_the_schema_is_a_400(string query, string message)
    {
        var e = Fails(query);
        Assert.Equal((400, ErrorCodes.InvalidQuery), (e.Status, e.Code));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Limit_minus_one_is_capped_by_the_maximum_and_unlimited_without_one()
    {
        Assert.Contains(500, Compile("?limit=-1").Items.Parameters.Select(p => p.Value));
        var compiler = new ItemsQueryCompiler(Snapshot);
        var unlimited = compiler.Compile("articles", QueryParser.Parse(QueryString("?limit=-1")), FullAccess.Instance, Context);
        Assert.EndsWith("ORDER BY t0.\"id\" ASC", unlimited.Items.Text);
        var e = Assert.Throws<DirectusException>(() => compiler.Compile("articles", QueryParser.Parse(QueryString("?limit=-1&page=2")), FullAccess.Instance, Context));
        Assert.Equal("Invalid query. \"page\" needs a \"limit\" other than -1.", e.Message);
    }

    [Fact]
    public void Page_sets_the_offset_and_meta_compiles_counts()
    {
        var q = Compile("?limit=10&page=3&meta=*&filter[views][_gt]=1");
        Assert.Contains(20, q.Items.Parameters.Select(p => p.Value));
        Assert.Equal("SELECT count(*) FROM \"articles\" t0", q.TotalCount!.Text);
        Assert.Equal("SELECT count(*) FROM \"articles\" t0 WHERE t0.\"views\" > $1::integer", q.FilterCount!.Text);
    }

    [Fact]
    public void Contains_escapes_like_wildcards()
    {
        var items = Compile("?filter[title][_contains]=" + Uri.EscapeDataString("50%_\\")).Items;
        Assert.Equal("%50\\%\\_\\\\%", items.Parameters[0].Value);
    }

    [Fact]
    public void The_permission_row_filter_is_anded_in_with_dynamic_values_as_parameters()
    {
        var access = new DelegateAccess(_ => new CollectionReadAccess(new FieldCondition("owner", FilterOperator.Eq, System.Text.Json.Nodes.JsonValue.Create("$CURRENT_USER"))));
        var q = Compile("?filter[text][_eq]=Nice&meta=total_count", "comments", access);
        Assert.Contains("t0.\"owner\" = $1::text AND t0.\"text\" = $2::text", q.Items.Text);
        Assert.Equal("user-1", q.Items.Parameters[0].Value);
        Assert.Contains("WHERE t0.\"owner\" = $1::text", q.TotalCount!.Text);
    }
}
