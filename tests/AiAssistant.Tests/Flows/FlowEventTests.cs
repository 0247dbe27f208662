using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Tools;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Flows;

/// <summary>
/// <c>event</c> flows against a real content database. Action: a write puts its event into the outbox in its own
/// transaction only when an active flow listens, and the event runs each flow once however often it is delivered
/// (delivery through RabbitMQ between replicas is not covered here). Filter: the flow runs in the write's transaction,
/// may change the payload, and a rejecting one refuses the write with its own writes undone and its run recorded.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class FlowEventTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _db = null!;
    private static readonly FlowActor Actor = new(null, null, "test", null);

    public async Task InitializeAsync()
    {
        _db = await ToolsDatabase.CreateAsync(servers, "flowevent");
        foreach (var name in new[] { "posts", "drafts" })
            await _db.Schema.CreateCollectionAsync(Body($$"""{"collection":"{{name}}","schema":{},"fields":[{"field":"title","type":"string"}]}"""), CancellationToken.None);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<List<string>> OutboxAsync()
    {
        await using var cmd = _db.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            $"select payload::text from outbox_messages where event_type = '{typeof(ItemsChanged).FullName}' order by created_at, id");
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private Task<IReadOnlyList<JsonNode>> WriteAsync(string collection, string title)
    {
        var reader = _db.Services.GetRequiredService<ItemsReader>();
        var caller = new WriteCaller(CallerPermissions.Admin, reader.Context(ToolsDatabase.Admin.UserId, null, []), null, "test", null);
        return _db.Items.CreateAsync(collection, [new JsonObject { ["title"] = title }], caller, CancellationToken.None);
    }

    [Fact]
    public async Task A_write_an_active_flow_listens_to_puts_one_event_in_the_outbox_and_each_event_runs_the_flow_once()
    {
        var store = _db.Services.GetRequiredService<FlowStore>();
        var flow = await store.CreateFlowAsync(Body("""
            {"name":"Echo posts","trigger":"event","options":{"type":"action","scope":["items.create"],"collections":["posts"]},
             "operation":"5e000000-0000-4000-8000-000000000001",
             "operations":[{"id":"5e000000-0000-4000-8000-000000000001","key":"copy","type":"item-create",
               "options":{"collection":"posts","permissions":"$full","payload":{"title":"echo of {{ $trigger.key }}"}}}]}
            """), Actor, CancellationToken.None);

        await WriteAsync("drafts", "not listened to");
        Assert.Empty(await OutboxAsync());
        await WriteAsync("posts", "first");
        var sent = Assert.Single(await OutboxAsync());
        var changed = JsonSerializer.Deserialize<ItemsChanged>(sent)!;
        Assert.Equal(("create", "posts", ToolsDatabase.Admin.UserId), (changed.Action, changed.Collection, changed.UserId));
        Assert.Equal(["1"], changed.Keys);

        var events = _db.Services.GetRequiredService<FlowEvents>();
        Assert.Equal(1, await events.RunAsync(changed, CancellationToken.None));
        Assert.Equal(0, await events.RunAsync(changed, CancellationToken.None)); // a redelivery runs nothing
        var posts = await _db.ResultAsync("items", """{"action":"read","collection":"posts","query":{"fields":["title"],"sort":["id"]}}""");
        Assert.Equal(["first", "echo of 1"], posts!.AsArray().Select(p => p!["title"]!.GetValue<string>()));
        Assert.Single(await OutboxAsync()); // the flow's own write (no emitEvents) starts no event: it cannot feed itself

        await store.UpdateFlowAsync(flow, Body("""{"status":"inactive"}"""), Actor, CancellationToken.None);
        await WriteAsync("posts", "second");
        Assert.Single(await OutboxAsync());
    }

    private Task<Guid> FilterFlowAsync(string scope, string operations, string first, string? returns = null)
    {
        var options = new JsonObject { ["type"] = "filter", ["scope"] = new JsonArray(scope), ["collections"] = new JsonArray("posts") };
        if (returns is not null) options["return"] = returns;
        return _db.Services.GetRequiredService<FlowStore>().CreateFlowAsync(new JsonObject
        {
            ["name"] = "Guard", ["trigger"] = "event", ["options"] = options, ["operation"] = first, ["operations"] = JsonNode.Parse(operations),
        }, Actor, CancellationToken.None);
    }

    private const string F1 = "5f000000-0000-4000-8000-000000000001", F2 = "5f000000-0000-4000-8000-000000000002", F3 = "5f000000-0000-4000-8000-000000000003";

    /// <summary>Checks the title, notes the attempt in drafts (in the write's transaction), then answers the payload to write or refuses with 422.</summary>
    private static readonly string Guard = $$$"""
        [{"id":"{{{F1}}}","key":"note","type":"item-create","options":{"collection":"drafts","permissions":"$full","payload":{"title":"saw {{ $trigger.payload.title }}"}},"resolve":"{{{F2}}}"},
         {"id":"{{{F2}}}","key":"check","type":"condition","options":{"filter":{"$trigger":{"payload":{"title":{"_neq":"spam"} } } } },"resolve":"{{{F3}}}","reject":"5f000000-0000-4000-8000-000000000004"},
         {"id":"{{{F3}}}","key":"clean","type":"transform","options":{"json":{"title":"[{{ $trigger.payload.title }}]"} } },
         {"id":"5f000000-0000-4000-8000-000000000004","key":"refuse","type":"throw-error","options":{"code":"SPAM","status":422,"message":"No spam in {{ $trigger.collection }}"} }]
        """;

    private async Task<List<string>> TitlesAsync(string collection) =>
        (await _db.ResultAsync("items", $$$"""{"action":"read","collection":"{{{collection}}}","query":{"fields":["title"],"sort":["id"]}}"""))!
            .AsArray().Select(p => p!["title"]!.GetValue<string>()).ToList();

    private async Task<List<string?>> RunStatusesAsync(Guid flow)
    {
        await using var cmd = _db.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            "select r.data->>'status' from content_activity a left join content_revisions r on r.activity = a.id where a.action = 'run' and a.item = $1 order by a.id");
        cmd.Parameters.AddWithValue(flow.ToString());
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string?>();
        while (await reader.ReadAsync()) rows.Add(reader.IsDBNull(0) ? null : reader.GetString(0));
        return rows;
    }

    [Fact]
    public async Task A_filter_flow_changes_the_payload_before_the_write_and_a_rejecting_one_refuses_it_with_its_4xx_leaving_nothing_but_the_run_record()
    {
        var flow = await FilterFlowAsync("items.create", Guard, F1, returns: "$last");

        await WriteAsync("posts", "hello");
        Assert.Equal(["[hello]"], await TitlesAsync("posts"));
        Assert.Equal(["saw hello"], await TitlesAsync("drafts")); // the flow's own write committed with the change

        var refused = await Assert.ThrowsAsync<DirectusException>(() => WriteAsync("posts", "spam"));
        Assert.Equal((422, "SPAM", "No spam in posts"), (refused.Status, refused.Code, refused.Message));
        Assert.Equal(flow.ToString(), refused.Extensions!["flow"]);
        Assert.Equal(["[hello]"], await TitlesAsync("posts"));
        Assert.Equal(["saw hello"], await TitlesAsync("drafts")); // its own write rolled back with the refused change
        Assert.Equal(["resolve", "reject"], await RunStatusesAsync(flow)); // the record of why stays

        await WriteAsync("drafts", "not listened to");
        Assert.Equal(["saw hello", "not listened to"], await TitlesAsync("drafts"));
    }

    [Fact]
    public async Task A_filter_flow_without_return_keeps_the_payload_and_guards_updates_and_deletes_too()
    {
        var created = await WriteAsync("posts", "kept");
        var refuse = $$$"""[{"id":"{{{F1}}}","key":"refuse","type":"throw-error","options":{"message":"{{ $trigger.event }} of {{ $trigger.keys }} refused"} }]""";
        var updates = await FilterFlowAsync("items.update", $$$"""[{"id":"{{{F1}}}","key":"look","type":"transform","options":{"json":{"seen":"{{ $trigger.keys }}"} } }]""", F1);
        var reader = _db.Services.GetRequiredService<ItemsReader>();
        var caller = new WriteCaller(CallerPermissions.Admin, reader.Context(ToolsDatabase.Admin.UserId, null, []), null, "test", null);
        await _db.Items.UpdateManyAsync("posts", created, new JsonObject { ["title"] = "changed" }, caller, CancellationToken.None);
        Assert.Equal(["changed"], await TitlesAsync("posts")); // no return: the payload as sent

        await _db.Services.GetRequiredService<FlowStore>().CreateFlowAsync(Body($$$"""
            {"name":"No deletes","trigger":"event","options":{"type":"filter","scope":["items.delete"],"collections":["posts"]},"operation":"5f000000-0000-4000-8000-000000000011",
             "operations":[{"id":"5f000000-0000-4000-8000-000000000011","key":"refuse","type":"throw-error","options":{"message":"{{ $trigger.event }} of {{ $trigger.payload }} refused"} }]}
            """), Actor, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<DirectusException>(() => _db.Items.DeleteAsync("posts", created, caller, CancellationToken.None));
        Assert.Equal((400, "FLOW_ERROR", "posts.items.delete of [1] refused"), (refused.Status, refused.Code, refused.Message)); // throw-error's 500 is a 400 here
        Assert.Equal(["changed"], await TitlesAsync("posts"));
        Assert.Equal(["resolve"], await RunStatusesAsync(updates));
    }

    [Fact]
    public async Task An_action_flow_that_throws_keeps_the_change_and_records_why()
    {
        var flow = await _db.Services.GetRequiredService<FlowStore>().CreateFlowAsync(Body($$$"""
            {"name":"After","trigger":"event","options":{"type":"action","scope":["items.create"],"collections":["posts"]},"operation":"{{{F1}}}",
             "operations":[{"id":"{{{F1}}}","key":"refuse","type":"throw-error","options":{"message":"too late"} }]}
            """), Actor, CancellationToken.None);
        await WriteAsync("posts", "stays");
        var changed = JsonSerializer.Deserialize<ItemsChanged>(Assert.Single(await OutboxAsync()))!;
        Assert.Equal(1, await _db.Services.GetRequiredService<FlowEvents>().RunAsync(changed, CancellationToken.None));
        Assert.Equal(["stays"], await TitlesAsync("posts"));
        Assert.Equal(["reject"], await RunStatusesAsync(flow));
    }
}
