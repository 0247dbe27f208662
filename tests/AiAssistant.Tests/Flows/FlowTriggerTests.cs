using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Tools;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Flows;

/// <summary>Manual and webhook triggers (<see cref="FlowTriggers"/>, what <c>/flows/trigger/:id</c> and the tool call) against a real content database.</summary>
[Collection(ServersCollection.Name)]
public sealed class FlowTriggerTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _db = null!;
    private static readonly FlowActor Actor = new(null, "127.0.0.1", "test", null);

    private FlowStore Store => _db.Services.GetRequiredService<FlowStore>();
    private FlowTriggers Triggers => _db.Services.GetRequiredService<FlowTriggers>();

    public async Task InitializeAsync()
    {
        _db = await ToolsDatabase.CreateAsync(servers, "flowtrigger");
        await _db.Schema.CreateCollectionAsync(Body("""{"collection":"notes","schema":{},"fields":[{"field":"text","type":"string"}]}"""), CancellationToken.None);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private async Task<Guid> FlowAsync(string json) => await Store.CreateFlowAsync(Body(json), Actor, CancellationToken.None);

    private Task<JsonNode?> TriggerAsync(Guid flow, string method, string body, CallerIdentity? caller, string query = "{}") =>
        Triggers.RunAsync(new FlowRequest(flow, method, Body(body), Body(query), Body("""{"authorization":"Bearer abc"}"""), caller, Actor), CancellationToken.None);

    private const string First = "00000000-0000-0000-0000-0000000000f1", Second = "00000000-0000-0000-0000-0000000000f2";

    private static string Manual(string options) => $$$"""
        {"name":"Note","trigger":"manual","options":{{{options}}},"operation":"{{{First}}}","operations":[
          {"id":"{{{First}}}","key":"note","type":"item-create","options":{"collection":"notes","payload":{"text":"{{ $trigger.body.reason }} {{ $trigger.body.keys }}"}},"resolve":"{{{Second}}}"},
          {"id":"{{{Second}}}","key":"back","type":"transform","options":{"json":{"created":"{{ note }}","collection":"{{ $trigger.body.collection }}"} } }]}
        """;

    [Fact]
    public async Task A_manual_flow_runs_for_its_collections_with_its_required_fields_and_answers_its_last_data()
    {
        var flow = await FlowAsync(Manual("""{"collections":["notes"],"fields":[{"field":"reason","meta":{"required":true}}]}"""));

        var result = await TriggerAsync(flow, "POST", """{"collection":"notes","keys":[4,5],"reason":"because"}""", ToolsDatabase.Admin);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"created":1,"collection":"notes"}"""), result), result?.ToJsonString());

        var missing = await Assert.ThrowsAsync<DirectusException>(() => TriggerAsync(flow, "POST", """{"collection":"notes","keys":[1]}""", ToolsDatabase.Admin));
        Assert.Equal((400, "Invalid payload. Required field \"reason\" is missing."), (missing.Status, missing.Message));
        foreach (var (method, body) in new[] { ("POST", """{"reason":"x"}"""), ("POST", """{"collection":"other","reason":"x"}"""), ("GET", """{"collection":"notes","reason":"x"}""") })
            Assert.Equal(403, (await Assert.ThrowsAsync<DirectusException>(() => TriggerAsync(flow, method, body, ToolsDatabase.Admin))).Status);

        await Store.UpdateFlowAsync(flow, Body("""{"status":"inactive"}"""), Actor, CancellationToken.None);
        Assert.Equal(403, (await Assert.ThrowsAsync<DirectusException>(() => TriggerAsync(flow, "POST", """{"collection":"notes","reason":"x"}""", ToolsDatabase.Admin))).Status);
    }

    [Fact]
    public async Task A_manual_flow_acts_under_the_caller_s_permissions()
    {
        var flow = await FlowAsync(Manual("""{"collections":["notes"]}"""));
        var reader = _db.Grant("00000000-0000-0000-0000-0000000000c3", ToolsDatabase.Rule("notes", "read"));
        var writer = _db.Grant("00000000-0000-0000-0000-0000000000c4", ToolsDatabase.Rule("notes", "create"));

        var refused = await TriggerAsync(flow, "POST", """{"collection":"notes","reason":"r"}""", reader);
        Assert.Equal("FORBIDDEN", refused!["code"]!.GetValue<string>()); // the rejected item-create is the flow's last data
        var done = await TriggerAsync(flow, "POST", """{"collection":"notes","reason":"w","keys":[]}""", writer);
        Assert.Equal(1, done!["created"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_webhook_flow_takes_its_method_and_answers_its_return()
    {
        var flow = await FlowAsync($$$"""
            {"name":"Hook","trigger":"webhook","options":{"method":"POST"},"operation":"{{{First}}}","operations":[
              {"id":"{{{First}}}","key":"echo","type":"transform","options":{"json":{"got":"{{ $trigger.body.value }}","q":"{{ $trigger.query.page }}"} } }]}
            """);
        var result = await TriggerAsync(flow, "POST", """{"value":[1,2]}""", null, """{"page":"3"}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"got":[1,2],"q":"3"}"""), result), result?.ToJsonString());
        Assert.Equal(403, (await Assert.ThrowsAsync<DirectusException>(() => TriggerAsync(flow, "GET", "{}", null))).Status);

        await Store.UpdateFlowAsync(flow, Body("""{"options":{"method":"GET","return":"$all"}}"""), Actor, CancellationToken.None);
        var all = await TriggerAsync(flow, "GET", "{}", null, """{"page":"9"}""");
        Assert.Equal("9", all!["echo"]!["q"]!.GetValue<string>());
        Assert.Equal("GET", all["$trigger"]!["method"]!.GetValue<string>());
        Assert.Null(all["$accountability"]); // no token: the Public policy's run

        await Store.UpdateFlowAsync(flow, Body("""{"options":{"method":"GET","async":true}}"""), Actor, CancellationToken.None);
        Assert.Null(await TriggerAsync(flow, "GET", "{}", null));
        var data = _db.Services.GetRequiredService<NpgsqlDataSource>();
        for (var i = 0; i < 100 && await RunsAsync() < 3; i++) await Task.Delay(50); // the third run finishes after its answer
        Assert.Equal(3, await RunsAsync());

        async Task<long> RunsAsync()
        {
            await using var cmd = data.CreateCommand($"select count(*) from content_activity where action = 'run' and item = '{flow}'");
            return (long)(await cmd.ExecuteScalarAsync())!;
        }
    }
}
