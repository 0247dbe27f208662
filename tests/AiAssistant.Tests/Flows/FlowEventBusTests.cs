using System.Text.Json.Nodes;
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
/// An event action flow end to end with two Tools replicas: writes on both go through each one's outbox dispatcher to
/// the real RabbitMQ, both consume the one shared queue, and the flow runs exactly once per event.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class FlowEventBusTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _one = null!, _two = null!;
    private readonly string _queue = "flow-events-test-" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        _one = await ToolsDatabase.CreateAsync(servers, "flowbus", _queue);
        _two = await _one.ReplicaAsync();
        foreach (var name in new[] { "posts", "echoes" })
            await _one.Schema.CreateCollectionAsync(Body($$"""{"collection":"{{name}}","schema":{},"fields":[{"field":"title","type":"string"}]}"""), CancellationToken.None);
        await _one.StartAsync();
        await _two.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _two.DisposeAsync();
        await _one.DisposeAsync();
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var cmd = _one.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(sql);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Writes_on_two_replicas_run_the_action_flow_once_per_event_through_rabbitmq()
    {
        var flow = await _one.Services.GetRequiredService<FlowStore>().CreateFlowAsync(Body("""
            {"name":"Echo","trigger":"event","options":{"type":"action","scope":["items.create"],"collections":["posts"]},
             "operation":"5e000000-0000-4000-8000-0000000000b1",
             "operations":[{"id":"5e000000-0000-4000-8000-0000000000b1","key":"copy","type":"item-create",
               "options":{"collection":"echoes","permissions":"$full","payload":{"title":"echo of {{ $trigger.key }}"}}}]}
            """), new FlowActor(null, null, "test", null), CancellationToken.None);

        const int Writes = 40;
        await Task.WhenAll(Enumerable.Range(0, Writes).Select(async i =>
        {
            var replica = i % 2 == 0 ? _one : _two;
            var reader = replica.Services.GetRequiredService<ItemsReader>();
            var caller = new WriteCaller(CallerPermissions.Admin, reader.Context(ToolsDatabase.Admin.UserId, null, []), null, "test", null);
            await replica.Items.CreateAsync("posts", [new JsonObject { ["title"] = $"post {i}" }], caller, CancellationToken.None);
        }));

        for (var i = 0; i < 600 && await CountAsync("select count(*) from echoes") < Writes; i++) await Task.Delay(50);
        for (var i = 0; i < 100 && await CountAsync("select count(*) from outbox_messages where sent_at is null") > 0; i++) await Task.Delay(50);
        await Task.Delay(500); // a second delivery, were there one, lands in this time

        Assert.Equal(Writes, await CountAsync("select count(*) from echoes"));
        Assert.Equal(Writes, await CountAsync("select count(distinct title) from echoes"));
        Assert.Equal(Writes, await CountAsync("select count(*) from echoes e join posts p on e.title = 'echo of ' || p.id"));
        Assert.Equal(Writes, await CountAsync($"select count(*) from content_activity where action = 'run' and item = '{flow}'"));
        Assert.Equal(0, await CountAsync("select count(*) from outbox_messages where sent_at is null"));

        // every event delivered again (at-least-once: a redelivery after a lost ack), then one new write behind them
        var bus = _two.Services.GetRequiredService<MassTransit.IBus>();
        await using (var cmd = _one.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
                         $"select payload::text from outbox_messages where event_type = '{typeof(AiAssistant.Contracts.ItemsChanged).FullName}'"))
        await using (var rows = await cmd.ExecuteReaderAsync())
            while (await rows.ReadAsync())
                await bus.Publish(System.Text.Json.JsonSerializer.Deserialize<AiAssistant.Contracts.ItemsChanged>(rows.GetString(0))!);
        var reader1 = _one.Services.GetRequiredService<ItemsReader>();
        await _one.Items.CreateAsync("posts", [new JsonObject { ["title"] = "last" }],
            new WriteCaller(CallerPermissions.Admin, reader1.Context(ToolsDatabase.Admin.UserId, null, []), null, "test", null), CancellationToken.None);
        for (var i = 0; i < 600 && await CountAsync("select count(*) from echoes") < Writes + 1; i++) await Task.Delay(50);
        await Task.Delay(1000);
        Assert.Equal(Writes + 1, await CountAsync("select count(*) from echoes"));
        Assert.Equal(Writes + 1, await CountAsync($"select count(*) from content_activity where action = 'run' and item = '{flow}'"));
    }
}
