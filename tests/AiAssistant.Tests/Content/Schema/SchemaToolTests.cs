using System.Text.Json.Nodes;
using AiAssistant.Contracts.Access;
using AiAssistant.Services.Tools.AssistantTools;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.ToolRegistry;
using AiAssistant.Tests.Tools;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Content.Schema;

/// <summary>The root schema tool over a real schema: the list, folders and notes, and per-field details with relations.</summary>
[Collection(ServersCollection.Name)]
public sealed class SchemaToolTests(ServersFixture servers) : IAsyncLifetime
{
    private SchemaDatabase _db = null!;
    private static readonly CancellationToken Ct = CancellationToken.None;

    public async Task InitializeAsync()
    {
        _db = await SchemaDatabase.CreateAsync(servers, "schematool");
        var store = _db.Store;
        await store.CreateCollectionAsync(Body("""{"collection":"blog","meta":{"note":"Everything blog"}}"""), Ct);
        await store.CreateCollectionAsync(Body("""{"collection":"authors","schema":{},"meta":{"group":"blog"},"fields":[{"field":"name","type":"string"}]}"""), Ct);
        await store.CreateCollectionAsync(Body("""{"collection":"tags","schema":{},"fields":[{"field":"label","type":"string"}]}"""), Ct);
        await store.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"meta":{"note":"Blog articles"},"fields":[
              {"field":"title","type":"string","meta":{"required":true,"note":"Shown in lists","interface":"input"}},
              {"field":"status","type":"string","meta":{"interface":"select-dropdown","options":{"choices":[{"text":"Draft","value":"draft"},{"text":"Published","value":"published"}]}}},
              {"field":"author","type":"integer","meta":{"special":["m2o"]}},
              {"field":"divider","type":"alias","meta":{"special":["no-data"],"interface":"presentation-divider"}}]}
            """), Ct);
        await store.CreateCollectionAsync(Body("""
            {"collection":"articles_tags","schema":{},"meta":{"hidden":true},"fields":[{"field":"articles_id","type":"integer"},{"field":"tags_id","type":"integer"}]}
            """), Ct);
        await store.CreateRelationAsync(Body("""{"collection":"articles","field":"author","related_collection":"authors","meta":{"one_field":"articles"}}"""), Ct);
        await store.CreateRelationAsync(Body("""{"collection":"articles_tags","field":"articles_id","related_collection":"articles","meta":{"one_field":"tags","junction_field":"tags_id"}}"""), Ct);
        await store.CreateRelationAsync(Body("""{"collection":"articles_tags","field":"tags_id","related_collection":"tags","meta":{"junction_field":"articles_id"}}"""), Ct);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<JsonNode> RunAsync(string input, CallerPermissions? permissions = null) =>
        (await new SchemaTool(_db.Cache).HandleAsync(ToolCalls.For(input, permissions)))!;

    [Fact]
    public async Task A_user_sees_only_what_it_may_read_and_a_hidden_collection_is_unknown()
    {
        var reply = new GetPermissionsReply();
        reply.Permissions.Add(new Permission { Collection = "articles", Action = "read", HasFields = true, Fields = { "id", "title", "author" } });
        var user = CallerPermissions.From(reply);

        var list = await RunAsync("{}", user);
        Assert.Equal(["articles"], list["collections"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Empty(list["collection_folders"]!.AsArray()); // blog holds only authors, which the user may not read
        var details = await RunAsync("""{"keys":["articles","authors"]}""", user);
        Assert.Equal(["author", "id", "title"], details["articles"]!.AsObject().Select(f => f.Key).Order());
        Assert.Null(details["articles"]!["author"]!["relation"]); // its far side is not readable
        Assert.Null(details["authors"]);
        var e = await Assert.ThrowsAsync<ToolException>(() => RunAsync("""{"keys":["authors"]}""", user));
        Assert.Contains("authors", e.Message);
    }

    [Fact]
    public async Task Without_keys_it_lists_collections_folders_and_notes()
    {
        var result = await RunAsync("{}");
        Assert.Equal(["articles", "authors", "tags"], result["collections"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(["blog"], result["collection_folders"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal("Blog articles", result["notes"]!["articles"]!.GetValue<string>());
        Assert.Equal("Everything blog", result["notes"]!["blog"]!.GetValue<string>());
    }

    [Fact]
    public async Task With_keys_it_describes_fields_interfaces_and_relations()
    {
        var result = await RunAsync("""{"keys":["articles","authors"]}""");
        var articles = result["articles"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type":"integer","primary_key":true,"readonly":true,"interface":{"type":"numeric"}}"""), articles["id"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type":"string","required":true,"note":"Shown in lists","interface":{"type":"input"}}"""), articles["title"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["draft","published"]"""), articles["status"]!["interface"]!["choices"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type":"m2o","collection":"authors"}"""), articles["author"]!["relation"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"type":"m2m","collection":"tags","many_field":"articles_id","junction":{"collection":"articles_tags","many_field":"articles_id","junction_field":"tags_id"}}
            """), articles["tags"]!["relation"]));
        Assert.Null(articles["divider"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type":"o2m","collection":"articles","many_field":"author"}"""), result["authors"]!["articles"]!["relation"]));
    }
}
