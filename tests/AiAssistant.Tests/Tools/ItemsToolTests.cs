using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.ToolRegistry;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;
using static AiAssistant.Tests.Tools.ToolsDatabase;

namespace AiAssistant.Tests.Tools;

/// <summary>The <c>items</c> tool through the registry's pipeline against a real content database.</summary>
[Collection(ServersCollection.Name)]
public sealed class ItemsToolTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _db = null!;

    public async Task InitializeAsync()
    {
        _db = await ToolsDatabase.CreateAsync(servers, "itemstool");
        var ct = CancellationToken.None;
        await _db.Schema.CreateCollectionAsync(Body("""{"collection":"authors","schema":{},"fields":[{"field":"name","type":"string"}]}"""), ct);
        await _db.Schema.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"fields":[
              {"field":"title","type":"string","schema":{"is_nullable":false}},
              {"field":"status","type":"string","schema":{"default_value":"draft"}},
              {"field":"views","type":"integer"},
              {"field":"author","type":"integer","meta":{"special":["m2o"]}}]}
            """), ct);
        await _db.Schema.CreateRelationAsync(Body("""{"collection":"articles","field":"author","related_collection":"authors","meta":{"one_field":"articles"}}"""), ct);
        await _db.Schema.CreateCollectionAsync(Body("""{"collection":"settings","schema":{},"meta":{"singleton":true},"fields":[{"field":"site_name","type":"string"}]}"""), ct);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private Task SeedAsync() => _db.ResultAsync("items", """
        {"action":"create","collection":"articles","data":[
          {"title":"One","status":"published","views":10,"author":{"name":"Ann"}},
          {"title":"Two","status":"draft","views":20},
          {"title":"Three","status":"published","views":30}]}
        """);

    private static int[] Ids(JsonNode? items) => items!.AsArray().Select(i => i!["id"]!.GetValue<int>()).ToArray();

    [Fact]
    public async Task Create_returns_the_items_read_back_with_the_query_fields_and_a_deep_link_for_one()
    {
        var envelope = await _db.ExecuteAsync("items", """
            {"action":"create","collection":"articles","data":{"title":"Hello","author":{"name":"Ann"}},"query":{"fields":["id","title","author.name"]}}
            """);
        Assert.True(envelope["ok"]!.GetValue<bool>(), envelope.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"id":1,"title":"Hello","author":{"name":"Ann"}}]"""), envelope["result"]), envelope.ToJsonString());
        Assert.Equal($"{PublicUrl}/admin/content/articles/1", envelope["url"]!.GetValue<string>());

        var many = await _db.ExecuteAsync("items", """{"action":"create","collection":"articles","data":[{"title":"A"},{"title":"B"}]}""");
        Assert.Equal([2, 3], Ids(many["result"]));
        Assert.Equal("draft", many["result"]![0]!["status"]!.GetValue<string>()); // every field without query.fields, defaults applied
        Assert.Null(many["url"]); // two records: no single link
    }

    [Fact]
    public async Task Read_takes_a_query_or_keys()
    {
        await SeedAsync();
        var published = await _db.ResultAsync("items", """
            {"action":"read","collection":"articles","query":{"fields":["id","title"],"filter":{"status":{"_eq":"published"}},"sort":["-views"]}}
            """);
        Assert.Equal([3, 1], Ids(published));
        Assert.Equal(["id", "title"], published![0]!.AsObject().Select(p => p.Key));

        var byKeys = await _db.ResultAsync("items", """{"action":"read","collection":"articles","keys":[2,3],"query":{"fields":["id"]}}""");
        Assert.Equal([2, 3], Ids(byKeys));

        var counted = await _db.ResultAsync("items", """{"action":"read","collection":"articles","query":{"aggregate":{"count":["*"]},"groupBy":["status"]}}""");
        Assert.Equal(2, counted!.AsArray().Single(g => g!["status"]!.GetValue<string>() == "published")!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Update_is_a_batch_for_a_list_by_keys_for_an_object_or_by_query_and_reads_the_items_back()
    {
        await SeedAsync();
        var byKeys = await _db.ResultAsync("items", """{"action":"update","collection":"articles","keys":[1,2],"data":{"views":0},"query":{"fields":["id","views"]}}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"id":1,"views":0},{"id":2,"views":0}]"""), byKeys));

        var batch = await _db.ResultAsync("items", """{"action":"update","collection":"articles","data":[{"id":1,"title":"Uno"},{"id":3,"title":"Tres"}],"query":{"fields":["title"]}}""");
        Assert.Equal(["Uno", "Tres"], batch!.AsArray().Select(i => i!["title"]!.GetValue<string>()));

        // the read-back is the items written, even when the update moved them out of the query's own filter
        var byQuery = await _db.ResultAsync("items", """
            {"action":"update","collection":"articles","query":{"filter":{"status":{"_eq":"draft"}}},"data":{"status":"archived"}}
            """);
        Assert.Equal([2], Ids(byQuery));
        Assert.Equal("archived", byQuery![0]!["status"]!.GetValue<string>());

        var nothingNamed = await _db.ErrorAsync("items", """{"action":"update","collection":"articles","data":{"status":"x"}}""");
        Assert.Equal("INVALID_PAYLOAD", nothingNamed["code"]!.GetValue<string>());
        Assert.True(nothingNamed["recoverable"]!.GetValue<bool>());
        var batchWithoutKey = await _db.ErrorAsync("items", """{"action":"update","collection":"articles","data":[{"title":"no key"}]}""");
        Assert.Contains("primary key", batchWithoutKey["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_needs_keys_and_returns_them()
    {
        await SeedAsync();
        var missing = await _db.ErrorAsync("items", """{"action":"delete","collection":"articles","query":{"filter":{}}}""");
        Assert.Equal("INVALID_PAYLOAD", missing["code"]!.GetValue<string>());
        Assert.Equal(3, (await _db.ResultAsync("items", """{"action":"read","collection":"articles"}"""))!.AsArray().Count);

        var deleted = await _db.ResultAsync("items", """{"action":"delete","collection":"articles","keys":[1,3]}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("[1,3]"), deleted));
        var left = await _db.ResultAsync("items", """{"action":"read","collection":"articles"}""");
        Assert.Equal([2], Ids(left));
        var unknown = await _db.ErrorAsync("items", """{"action":"delete","collection":"articles","keys":[2,99]}""");
        Assert.Equal("FORBIDDEN", unknown["code"]!.GetValue<string>());
        var kept = await _db.ResultAsync("items", """{"action":"read","collection":"articles"}""");
        Assert.Equal([2], Ids(kept)); // all or nothing
    }

    [Fact]
    public async Task A_singleton_is_upserted_read_as_an_object_and_refuses_a_list()
    {
        var created = await _db.ExecuteAsync("items", """{"action":"create","collection":"settings","data":{"site_name":"Docs"}}""");
        Assert.Equal("Docs", created["result"]!["site_name"]!.GetValue<string>());
        Assert.Equal($"{PublicUrl}/admin/content/settings", created["url"]!.GetValue<string>());
        await _db.ResultAsync("items", """{"action":"update","collection":"settings","data":{"site_name":"Docs 2"}}""");
        var read = await _db.ResultAsync("items", """{"action":"read","collection":"settings","query":{"fields":["site_name"]}}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"site_name":"Docs 2"}"""), read));
        Assert.Single((await _db.ResultAsync("items", """{"action":"read","collection":"settings","query":{"aggregate":{"count":["*"]}}}"""))!.AsArray());

        var list = await _db.ErrorAsync("items", """{"action":"update","collection":"settings","data":[{"id":1,"site_name":"x"}]}""");
        Assert.Equal("INVALID_PAYLOAD", list["code"]!.GetValue<string>());
        Assert.Contains("singleton", list["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("directus_files")]
    [InlineData("directus_folders")]
    [InlineData("directus_users")]
    public async Task A_system_collection_is_refused(string collection)
    {
        var error = await _db.ErrorAsync("items", $$"""{"action":"read","collection":"{{collection}}"}""");
        Assert.Equal("INVALID_PAYLOAD", error["code"]!.GetValue<string>());
        Assert.Contains("Cannot provide a core collection", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unknown_collection_is_the_stores_403_for_admins_and_users()
    {
        var user = _db.Grant("00000000-0000-0000-0000-0000000000b2", Rule("articles", "read"));
        foreach (var caller in new[] { Admin, user })
        {
            var error = await _db.ErrorAsync("items", """{"action":"read","collection":"nope"}""", caller);
            Assert.Equal("FORBIDDEN", error["code"]!.GetValue<string>());
            Assert.False(error["recoverable"]!.GetValue<bool>());
        }
        var forbidden = await _db.ErrorAsync("items", """{"action":"read","collection":"authors"}""", user);
        Assert.Equal("FORBIDDEN", forbidden["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_user_with_a_row_filter_sees_and_changes_only_permitted_rows()
    {
        await SeedAsync();
        var user = _db.Grant("00000000-0000-0000-0000-0000000000b3",
            Rule("articles", "read", """{"status":{"_eq":"published"}}""", "id", "title", "status"),
            Rule("articles", "update", """{"status":{"_eq":"published"}}""", "title"));

        var read = await _db.ResultAsync("items", """{"action":"read","collection":"articles"}""", user);
        Assert.Equal([1, 3], Ids(read));
        Assert.All(read!.AsArray(), item => Assert.Equal(["id", "title", "status"], item!.AsObject().Select(p => p.Key)));
        Assert.DoesNotContain("Two", read.ToJsonString());
        Assert.Empty((await _db.ResultAsync("items", """{"action":"read","collection":"articles","keys":[2]}""", user))!.AsArray());

        var outside = await _db.ErrorAsync("items", """{"action":"update","collection":"articles","keys":[2],"data":{"title":"mine now"}}""", user);
        Assert.Equal("FORBIDDEN", outside["code"]!.GetValue<string>());
        var hiddenField = await _db.ErrorAsync("items", """{"action":"read","collection":"articles","query":{"fields":["views"]}}""", user);
        Assert.Equal("FORBIDDEN", hiddenField["code"]!.GetValue<string>());
        var updated = await _db.ResultAsync("items", """{"action":"update","collection":"articles","query":{},"data":{"title":"Edited"}}""", user);
        Assert.Equal([1, 3], Ids(updated));
        Assert.Equal("Two", (await _db.ResultAsync("items", """{"action":"read","collection":"articles","keys":[2],"query":{"fields":["title"]}}"""))![0]!["title"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"action":"archive","collection":"articles"}""", "\"action\" must be one of")]
    [InlineData("""{"collection":"articles"}""", "\"action\" is required")]
    [InlineData("""{"action":"create","collection":"articles"}""", "data")]
    [InlineData("""{"action":"delete","collection":"articles"}""", "keys")]
    [InlineData("""{"action":"read","collection":"articles","data":{"title":"x"}}""", "\"data\" is not a parameter of items with action \"read\"")]
    [InlineData("""{"action":"read","collection":"articles","query":{"fields":["id"],"having":1}}""", "query.having")]
    [InlineData("""{"action":"read","collection":"articles","keys":"abc"}""", "keys")]
    [InlineData("""{"action":"read","collection":42}""", "collection")]
    [InlineData("""{"action":"read","collection":"articles","query":"{not json"}""", "not valid JSON")]
    public async Task Bad_input_is_a_recoverable_invalid_payload_pointing_at_the_tools_details(string input, string says)
    {
        var error = await _db.ErrorAsync("items", input);
        Assert.Equal("INVALID_PAYLOAD", error["code"]!.GetValue<string>());
        Assert.Contains(says, error["message"]!.GetValue<string>());
        Assert.True(error["recoverable"]!.GetValue<bool>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"tool":"search","input":{"names":["items"]}}"""), error["next"]));
    }

    [Fact]
    public async Task Stringified_data_keys_and_query_are_parsed_before_validation()
    {
        await SeedAsync();
        var read = await _db.ResultAsync("items", """{"action":"read","collection":"articles","keys":"[1,2]","query":"{\"fields\":[\"id\"]}"}""");
        Assert.Equal([1, 2], Ids(read));
    }

    [Fact]
    public async Task In_chat_a_write_runs_only_when_approved_and_a_read_never_asks()
    {
        var ask = new ToolScope(ToolSurface.Chat, null, ToolScope.NoApprovals);
        var refused = await _db.Registry.ExecuteAsync("items", JsonNode.Parse("""{"action":"create","collection":"articles","data":{"title":"x"}}"""),
            Admin, ask, null, CancellationToken.None);
        Assert.Equal("APPROVAL_REQUIRED", refused.Error?.Code);
        var read = await _db.Registry.ExecuteAsync("items", JsonNode.Parse("""{"action":"read","collection":"articles"}"""), Admin, ask, null, CancellationToken.None);
        Assert.Empty(read.Result!.AsArray()); // nothing was created

        var always = new ToolScope(ToolSurface.Chat, null, new Dictionary<string, string> { ["items"] = ApprovalModes.Always });
        var created = await _db.Registry.ExecuteAsync("items", JsonNode.Parse("""{"action":"create","collection":"articles","data":{"title":"x"}}"""),
            Admin, always, null, CancellationToken.None);
        Assert.Null(created.Error);
        Assert.Equal([1], Ids(created.Result));
    }
}
