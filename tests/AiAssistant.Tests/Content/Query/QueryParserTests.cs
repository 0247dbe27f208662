using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using Xunit;
using static AiAssistant.Tests.Content.Query.ContentTestSchema;

namespace AiAssistant.Tests.Content.Query;

/// <summary>Directus's query parameters in every form the REST API and @directus/sdk send them, and the errors for bad ones.</summary>
public sealed class QueryParserTests
{
    private static ItemQuery Parse(string query) => QueryParser.Parse(QueryString(query));

    private static DirectusException Bad(string query) => Assert.Throws<DirectusException>(() => Parse(query));

    [Theory]
    [InlineData("?fields=title,author.name")]
    [InlineData("?fields[]=title&fields[]=author.name")]
    [InlineData("?fields=title&fields=author.name")]
    [InlineData("?fields[0]=title&fields[1]=author.name")]
    public void Fields_in_every_form(string query) => Assert.Equal(["title", "author.name"], Parse(query).Fields!);

    [Fact]
    public void Fields_from_json_as_list_or_text()
    {
        Assert.Equal(["a", "b.c"], QueryParser.Parse(JsonNode.Parse("""{"fields":["a","b.c"]}""")!.AsObject()).Fields!);
        Assert.Equal(["a", "b.c"], QueryParser.Parse(JsonNode.Parse("""{"fields":"a, b.c"}""")!.AsObject()).Fields!);
    }

    [Fact]
    public void Filter_as_json_and_in_bracket_form_give_the_same_tree()
    {
        var json = Parse("?filter=" + Uri.EscapeDataString("""{"_and":[{"title":{"_eq":"x"}},{"author":{"name":{"_eq":"Ann"}}}]}""")).Filter;
        var brackets = Parse("?filter[_and][0][title][_eq]=x&filter[_and][1][author][name][_eq]=Ann").Filter;
        foreach (var filter in new[] { json, brackets })
        {
            var and = Assert.IsType<AndFilter>(filter);
            var first = Assert.IsType<FieldCondition>(and.Filters[0]);
            Assert.Equal(("title", FilterOperator.Eq, "x"), (first.Field, first.Operator, first.Operand!.GetValue<string>()));
            var relational = Assert.IsType<RelationalCondition>(and.Filters[1]);
            Assert.Equal("author", relational.Field);
            Assert.Equal("name", Assert.IsType<FieldCondition>(relational.Inner).Field);
        }
    }

    [Fact]
    public void Bracket_lists_keep_their_index_order_and_in_takes_comma_text()
    {
        var or = Assert.IsType<OrFilter>(Parse("?filter[_or][1][b][_eq]=2&filter[_or][0][a][_eq]=1").Filter);
        Assert.Equal(["a", "b"], or.Filters.Select(f => ((FieldCondition)f).Field));
        var inList = Assert.IsType<FieldCondition>(Parse("?filter[id][_in]=1,2,3").Filter);
        Assert.Equal(3, Assert.IsType<JsonArray>(inList.Operand).Count);
        var nullCheck = Assert.IsType<FieldCondition>(Parse("?filter[body][_null]=true").Filter);
        Assert.True(nullCheck.Operand!.GetValue<bool>());
    }

    [Fact]
    public void Some_and_none()
    {
        var some = Assert.IsType<QuantifiedCondition>(Parse("?filter[comments][_some][text][_eq]=Nice").Filter);
        Assert.True(some.Some);
        Assert.False(Assert.IsType<QuantifiedCondition>(Parse("?filter[comments][_none][text][_eq]=Nice").Filter).Some);
    }

    [Fact]
    public void Sort_limit_offset_page_search_meta()
    {
        var q = Parse("?sort=-title,author.name&limit=-1&offset=5&page=2&search=hello&meta=total_count,filter_count");
        Assert.Equal([new SortKey("title", true), new SortKey("author.name", false)], q.Sort);
        Assert.Equal((-1, 5, 2, "hello"), (q.Limit, q.Offset, q.Page, q.Search));
        Assert.Equal(MetaKinds.TotalCount | MetaKinds.FilterCount, q.Meta);
        Assert.Equal(MetaKinds.TotalCount | MetaKinds.FilterCount, Parse("?meta=*").Meta);
        Assert.Equal([new SortKey("a", false), new SortKey("b", true)], Parse("?sort[]=a&sort[]=-b").Sort);
    }

    [Fact]
    public void Deep_alias_aggregate_group_by()
    {
        foreach (var q in new[]
        {
            Parse("?deep[comments][_filter][text][_eq]=Nice&deep[comments][_limit]=1&deep[comments][_sort]=-id&alias[latest]=comments&aggregate[count]=*&aggregate[sum]=price,views&groupBy=author,year(published_on)"),
            Parse("?deep=" + Uri.EscapeDataString("""{"comments":{"_filter":{"text":{"_eq":"Nice"}},"_limit":1,"_sort":["-id"]}}""")
                + "&alias=" + Uri.EscapeDataString("""{"latest":"comments"}""")
                + "&aggregate=" + Uri.EscapeDataString("""{"count":"*","sum":["price","views"]}""") + "&groupBy[]=author&groupBy[]=year(published_on)"),
        })
        {
            var deep = q.Deep["comments"];
            Assert.Equal(1, deep.Limit);
            Assert.Equal([new SortKey("id", true)], deep.Sort);
            Assert.IsType<FieldCondition>(deep.Filter);
            Assert.Equal("comments", q.Alias["latest"]);
            Assert.Equal([new Aggregation(AggregateFunction.Count, "*"), new Aggregation(AggregateFunction.Sum, "price"), new Aggregation(AggregateFunction.Sum, "views")], q.Aggregate);
            Assert.Equal([new GroupKey("author"), new GroupKey("published_on", DatePart.Year)], q.GroupBy);
            Assert.Equal("published_on_year", q.GroupBy[1].OutputName);
        }
    }

    [Fact]
    public void Nested_deep_reaches_further_relations()
    {
        var q = Parse("?deep[tags][tags_id][_filter][name][_eq]=news");
        Assert.IsType<FieldCondition>(q.Deep["tags"].Deep["tags_id"].Filter);
    }

    [Fact]
    public void Parameters_the_language_does_not_own_are_ignored_in_a_url_but_not_in_json()
    {
        Assert.Null(Parse("?access_token=abc").Fields);
        var e = Assert.Throws<DirectusException>(() => QueryParser.Parse(JsonNode.Parse("""{"limt":5}""")!.AsObject()));
        Assert.Contains("Unknown query parameter \"limt\"", e.Message);
    }

    [Theory]
    [InlineData("?limit=abc", "Invalid query. \"limit\" must be a whole number, -1 for all.")]
    [InlineData("?limit=-2", "Invalid query. \"limit\" must be a whole number, -1 for all.")]
    [InlineData("?offset=-1", "Invalid query. \"offset\" must be a whole number, 0 or more.")]
    [InlineData("?page=0", "Invalid query. \"page\" must be a whole number, 1 or more.")]
    [InlineData("?meta=everything", "Invalid query. \"meta\" does not know \"everything\". Use total_count, filter_count or *.")]
    [InlineData("?aggregate[median]=price", "Invalid query. Unknown aggregate function \"median\". Use one of count, countDistinct, sum, sumDistinct, avg, avgDistinct, min, max.")]
    [InlineData("?aggregate[sum]=*", "Invalid query. \"aggregate[sum]\" cannot take *; only count can.")]
    [InlineData("?groupBy=decade(published_on)", "Invalid query. \"groupBy\" function \"decade\" is not supported. Use one of year, month, week, day, weekday, hour, minute, second.")]
    [InlineData("?deep[comments][_fields]=text", "Invalid query. \"deep[comments]\" cannot set \"_fields\". Use _filter, _sort, _limit, _offset, _page, _search, or a relational field's name.")]
    [InlineData("?filter[_not][a][_eq]=1", "Invalid query. \"_not\" in \"filter\" is not a logical operator: use _and or _or, or put a field name here.")]
    [InlineData("?filter[a][_between]=1", "Invalid query. \"_between\" on \"a\" needs exactly 2 values, as [low, high] or \"low,high\".")]
    [InlineData("?filter[a][_null]=maybe", "Invalid query. \"_null\" on \"a\" needs true or false.")]
    [InlineData("?alias[a.b]=title", "Invalid query. \"alias[a.b]\": an alias and its field cannot contain \".\".")]
    [InlineData("?filter[a]=1&filter={}", "Invalid query. \"filter\" is given twice in different forms; give it once, as JSON or in bracket form.")]
    public void Bad_input_is_a_400_with_a_message_to_act_on(string query, string message)
    {
        var e = Bad(query);
        Assert.Equal((400, ErrorCodes.InvalidQuery), (e.Status, e.Code));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Unknown_operator_lists_the_known_ones()
    {
        var e = Bad("?filter[title][_like]=x");
        Assert.StartsWith("Invalid query. Unknown filter operator \"_like\" on \"title\" in \"filter\". Use one of _eq, _neq,", e.Message);
    }

    [Fact]
    public void Malformed_json_says_so()
    {
        var e = Bad("?filter=" + Uri.EscapeDataString("{\"title\":"));
        Assert.StartsWith("Invalid query. \"filter\" is not valid JSON: ", e.Message);
        Assert.StartsWith("Invalid query. \"deep\" is not valid JSON: ", Bad("?deep={").Message);
        Assert.StartsWith("Invalid query. \"aggregate\" is not valid JSON: ", Bad("?aggregate=[").Message);
    }

    [Fact]
    public void Dynamic_values_resolve_from_the_context()
    {
        var time = new FixedTime(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero));
        var context = new QueryContext("u1", "r1", ["r1", "r2"], ["p1"], time);
        Assert.Equal("u1", DynamicValues.Resolve(JsonValue.Create("$CURRENT_USER"), context)!.GetValue<string>());
        Assert.Equal("r1", DynamicValues.Resolve(JsonValue.Create("$CURRENT_ROLE"), context)!.GetValue<string>());
        Assert.Equal(["r1", "r2"], DynamicValues.Resolve(JsonValue.Create("$CURRENT_ROLES"), context)!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(["p1", "x"], DynamicValues.Resolve(new JsonArray("$CURRENT_POLICIES", "x"), context)!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("2026-03-10T12:00:00.000Z", DynamicValues.Resolve(JsonValue.Create("$NOW"), context)!.GetValue<string>());
        Assert.Equal("2026-03-09T12:00:00.000Z", DynamicValues.Resolve(JsonValue.Create("$NOW(-1 day)"), context)!.GetValue<string>());
        Assert.Equal("2026-03-10T14:00:00.000Z", DynamicValues.Resolve(JsonValue.Create("$NOW(+2 hours)"), context)!.GetValue<string>());
        Assert.Null(DynamicValues.Resolve(JsonValue.Create("$CURRENT_USER"), QueryContext.Anonymous(time)));
        Assert.Equal(400, Assert.Throws<DirectusException>(() => DynamicValues.Resolve(JsonValue.Create("$NOW(-1 fortnight)"), context)).Status);
        Assert.Equal(400, Assert.Throws<DirectusException>(() => DynamicValues.Resolve(JsonValue.Create("$CURRENT_USER.email"), context)).Status);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
