using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.ToolRegistry;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using static AiAssistant.Tests.Tools.ToolsDatabase;

namespace AiAssistant.Tests.Tools;

/// <summary>The admin-only <c>collections</c>, <c>fields</c> and <c>relations</c> tools against a real content database.</summary>
[Collection(ServersCollection.Name)]
public sealed class SchemaToolsTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _db = null!;

    public async Task InitializeAsync() => _db = await ToolsDatabase.CreateAsync(servers, "schematools");

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<bool> TableExistsAsync(string table)
    {
        await using var cmd = _db.Services.GetService(typeof(Npgsql.NpgsqlDataSource)) is Npgsql.NpgsqlDataSource data
            ? data.CreateCommand("select to_regclass($1) is not null") : throw new InvalidOperationException();
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = table });
        return (bool)(await cmd.ExecuteScalarAsync())!;
    }

    private Task CreateArticlesAsync() => _db.ResultAsync("collections", """
        {"action":"create","data":[
          {"collection":"blog","schema":null,"meta":{"note":"Everything blog"}},
          {"collection":"authors","schema":{},"meta":{"group":"blog"},"fields":[{"field":"name","type":"string"}]},
          {"collection":"articles","schema":{},"meta":{"note":"Blog articles","group":"blog","icon":"article"},"fields":[
            {"field":"id","type":"uuid","schema":{"is_primary_key":true},"meta":{"hidden":true,"readonly":true,"special":["uuid"]}},
            {"field":"title","type":"string","schema":{"is_nullable":false}},
            {"field":"author","type":"integer","meta":{"special":["m2o"],"interface":"select-dropdown-m2o"}}]}]}
        """);

    [Fact]
    public async Task Collections_are_created_together_read_updated_and_deleted()
    {
        await CreateArticlesAsync();
        Assert.True(await TableExistsAsync("articles"));
        Assert.False(await TableExistsAsync("blog")); // a collection folder has no table

        var one = await _db.ExecuteAsync("collections", """{"action":"read","keys":["articles"]}""");
        Assert.Equal(("Blog articles", "blog"), (one["result"]![0]!["meta"]!["note"]!.GetValue<string>(), one["result"]![0]!["meta"]!["group"]!.GetValue<string>()));
        Assert.Equal($"{PublicUrl}/admin/content/articles", one["url"]!.GetValue<string>());
        var all = await _db.ResultAsync("collections", """{"action":"read"}""");
        Assert.True(all!.AsArray().Single(c => c!["collection"]!.GetValue<string>() == "directus_files")!["meta"]!["system"]!.GetValue<bool>());

        var updated = await _db.ResultAsync("collections", """{"action":"update","data":[{"collection":"articles","meta":{"note":"Posts","hidden":true}}]}""");
        Assert.Equal(("Posts", true, "blog"), (updated![0]!["meta"]!["note"]!.GetValue<string>(), updated[0]!["meta"]!["hidden"]!.GetValue<bool>(),
            updated[0]!["meta"]!["group"]!.GetValue<string>())); // what the update left out keeps its value

        var deleted = await _db.ResultAsync("collections", """{"action":"delete","keys":["articles","authors"]}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["articles","authors"]"""), deleted));
        Assert.False(await TableExistsAsync("articles"));
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("collections", """{"action":"read","keys":["articles"]}""")));
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("collections", """{"action":"delete","keys":["directus_files"]}""")));
    }

    [Fact]
    public async Task Several_collections_or_fields_in_one_call_are_all_made_or_none()
    {
        await CreateArticlesAsync();
        var duplicate = await _db.ErrorAsync("collections", """
            {"action":"create","data":[{"collection":"products","schema":{}},{"collection":"articles","schema":{}}]}
            """);
        Assert.Equal(("INVALID_PAYLOAD", true), (Code(duplicate), duplicate["recoverable"]!.GetValue<bool>()));
        Assert.Contains("articles", duplicate["message"]!.GetValue<string>());
        Assert.False(await TableExistsAsync("products"));

        var twice = await _db.ErrorAsync("fields", """
            {"action":"create","collection":"articles","data":[{"field":"subtitle","type":"string"},{"field":"subtitle","type":"text"}]}
            """);
        Assert.Contains("already exists", twice["message"]!.GetValue<string>());
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("fields", """{"action":"read","collection":"articles","field":"subtitle"}""")));

        var badDefault = await _db.ErrorAsync("fields", """
            {"action":"update","collection":"articles","data":[{"field":"title","meta":{"note":"The headline"}},{"field":"author","schema":{"default_value":"not a number"}}]}
            """);
        Assert.Equal("INVALID_PAYLOAD", Code(badDefault));
        var title = await _db.ResultAsync("fields", """{"action":"read","collection":"articles","field":"title"}""");
        Assert.Null(title!["meta"]!["note"]); // the first change went back with the second
    }

    [Fact]
    public async Task Fields_are_created_read_updated_and_deleted()
    {
        await CreateArticlesAsync();
        var created = await _db.ResultAsync("fields", """
            {"action":"create","collection":"articles","data":[
              {"field":"subtitle","type":"string","meta":{"interface":"input","note":"Under the title"}},
              {"field":"views","type":"integer","schema":{"default_value":0,"is_nullable":false}}]}
            """);
        Assert.Equal(["subtitle", "views"], created!.AsArray().Select(f => f!["field"]!.GetValue<string>()));
        Assert.Equal(("integer", false), (created[1]!["schema"]!["data_type"]!.GetValue<string>(), created[1]!["schema"]!["is_nullable"]!.GetValue<bool>()));

        var single = await _db.ResultAsync("fields", """{"action":"create","collection":"articles","data":{"field":"body","type":"text"}}""");
        Assert.Equal("text", single![0]!["type"]!.GetValue<string>());
        var updated = await _db.ResultAsync("fields", """{"action":"update","collection":"articles","data":[{"field":"subtitle","schema":{"max_length":80}}]}""");
        Assert.Equal((80, "Under the title"), (updated![0]!["schema"]!["max_length"]!.GetValue<int>(), updated[0]!["meta"]!["note"]!.GetValue<string>()));

        var all = await _db.ResultAsync("fields", """{"action":"read","collection":"articles"}""");
        Assert.Equal(["author", "body", "id", "subtitle", "title", "views"], all!.AsArray().Select(f => f!["field"]!.GetValue<string>()).Order());
        var deleted = await _db.ResultAsync("fields", """{"action":"delete","collection":"articles","field":"subtitle"}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"collection":"articles","field":"subtitle"}"""), deleted));
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("fields", """{"action":"read","collection":"articles","field":"subtitle"}""")));
    }

    [Theory]
    [InlineData("""{"action":"read","field":"title"}""", "collection")]
    [InlineData("""{"action":"create","collection":"articles","data":[{"field":"x"}]}""", "type")]
    [InlineData("""{"action":"create","collection":"articles","data":[{"field":"x","type":"geometry"}]}""", "data[0].type")]
    [InlineData("""{"action":"create","collection":"articles","data":[{"field":"x","type":"string","collection":"authors"}]}""", "but the call names \"articles\"")]
    [InlineData("""{"action":"update","collection":"articles","data":[{"field":"title","meta":{"conditions":[]}}]}""", "data[0].meta.conditions")]
    [InlineData("""{"action":"delete","collection":"articles"}""", "field")]
    public async Task Fields_input_is_checked_per_action(string input, string says)
    {
        await CreateArticlesAsync();
        var error = await _db.ErrorAsync("fields", input);
        Assert.Equal(("INVALID_PAYLOAD", true), (Code(error), error["recoverable"]!.GetValue<bool>()));
        Assert.Contains(says, error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Relations_are_created_with_their_alias_read_updated_and_deleted()
    {
        await CreateArticlesAsync();
        var created = await _db.ResultAsync("relations", """
            {"action":"create","collection":"articles","data":{"collection":"articles","field":"author","related_collection":"authors",
             "meta":{"one_field":"articles"},"schema":{"on_delete":"SET NULL"}}}
            """);
        Assert.Equal(("authors", "articles", "SET NULL"), (created!["related_collection"]!.GetValue<string>(),
            created["meta"]!["one_field"]!.GetValue<string>(), created["schema"]!["on_delete"]!.GetValue<string>()));
        var alias = await _db.ResultAsync("fields", """{"action":"read","collection":"authors","field":"articles"}""");
        Assert.Equal("alias", alias!["type"]!.GetValue<string>());

        var updated = await _db.ResultAsync("relations", """{"action":"update","collection":"articles","field":"author","data":{"schema":{"on_delete":"CASCADE"}}}""");
        Assert.Equal("CASCADE", updated!["schema"]!["on_delete"]!.GetValue<string>());
        Assert.Single((await _db.ResultAsync("relations", """{"action":"read","collection":"articles"}"""))!.AsArray());
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("relations", """{"action":"read","collection":"nope"}""")));

        var mismatch = await _db.ErrorAsync("relations", """
            {"action":"create","collection":"authors","data":{"collection":"articles","field":"author","related_collection":"authors","meta":null}}
            """);
        Assert.Equal("INVALID_PAYLOAD", Code(mismatch));
        var noMeta = await _db.ErrorAsync("relations", """{"action":"create","collection":"articles","data":{"collection":"articles","field":"author","related_collection":"authors"}}""");
        Assert.Contains("meta", noMeta["message"]!.GetValue<string>());

        var deleted = await _db.ResultAsync("relations", """{"action":"delete","collection":"articles","field":"author"}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"collection":"articles","field":"author"}"""), deleted));
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("relations", """{"action":"read","collection":"articles","field":"author"}""")));
        Assert.Equal("integer", (await _db.ResultAsync("fields", """{"action":"read","collection":"articles","field":"author"}"""))!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admin_tools_are_invisible_to_a_non_admin()
    {
        var user = _db.Grant("00000000-0000-0000-0000-0000000000d1", Rule("directus_files", "read"));
        var found = await _db.Registry.CallRootAsync("search", JsonNode.Parse("""{"query":"collections fields relations data model"}"""), user, Mcp, null, CancellationToken.None);
        var names = found.Result!["results"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList();
        Assert.DoesNotContain("collections", names);
        Assert.DoesNotContain("fields", names);
        Assert.DoesNotContain("relations", names);
        var adminFound = await _db.Registry.CallRootAsync("search", JsonNode.Parse("""{"query":"collections fields relations data model"}"""), Admin, Mcp, null, CancellationToken.None);
        Assert.Contains("collections", adminFound.Result!["results"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));

        foreach (var tool in new[] { "collections", "fields", "relations" })
        {
            var error = await _db.ErrorAsync(tool, """{"action":"read"}""", user);
            Assert.Equal(("UNKNOWN_TOOL", true), (Code(error), error["recoverable"]!.GetValue<bool>()));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$$"""{"tool":"search","input":{"query":"{{{tool}}}"}}"""), error["next"]));
        }
        var details = await _db.Registry.CallRootAsync("search", JsonNode.Parse("""{"names":["fields","items"]}"""), user, Mcp, null, CancellationToken.None);
        Assert.Equal(["items"], details.Result!["results"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()));
    }
}
