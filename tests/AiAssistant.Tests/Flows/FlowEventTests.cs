using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
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
/// <c>event</c> action flows against a real content database: a write puts its event into the outbox in its own
/// transaction only when an active flow listens, and the event runs each flow once however often it is delivered.
/// (Delivery through RabbitMQ between replicas is not covered here.)
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

    [Fact]
    public async Task Filter_events_are_refused_until_they_are_built()
    {
        var e = await Assert.ThrowsAsync<AiAssistant.ServiceDefaults.Errors.DirectusException>(() => _db.Services.GetRequiredService<FlowStore>().CreateFlowAsync(
            Body("""{"name":"F","trigger":"event","options":{"type":"filter","scope":["items.create"],"collections":["posts"]}}"""), Actor, CancellationToken.None));
        Assert.Equal("options.type", e.Extensions!["field"]);
    }
}
