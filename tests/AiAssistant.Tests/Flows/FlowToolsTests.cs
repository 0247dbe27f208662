using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.ToolRegistry;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Tools;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;
using static AiAssistant.Tests.Tools.ToolsDatabase;

namespace AiAssistant.Tests.Flows;

/// <summary>The <c>flows</c>, <c>operations</c> and <c>trigger-flow</c> tools through the registry's pipeline against a real content database.</summary>
[Collection(ServersCollection.Name)]
public sealed class FlowToolsTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _db = null!;

    public async Task InitializeAsync()
    {
        _db = await ToolsDatabase.CreateAsync(servers, "flowtools");
        await _db.Schema.CreateCollectionAsync(Body("""{"collection":"notes","schema":{},"fields":[{"field":"text","type":"string"}]}"""), CancellationToken.None);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private const string First = "00000000-0000-0000-0000-0000000000e1", Second = "00000000-0000-0000-0000-0000000000e2";

    private async Task<string> CreateManualAsync()
    {
        var flow = await _db.ExecuteAsync("flows", $$$"""
            {"action":"create","data":{"name":"Note it","trigger":"manual","options":{"collections":["notes"],"fields":[{"field":"text","meta":{"required":true}}]},
             "operation":"{{{First}}}","operations":[
              {"id":"{{{First}}}","key":"note","type":"item-create","options":{"collection":"notes","payload":{"text":"{{ $trigger.body.text }}"}},"resolve":"{{{Second}}}"},
              {"id":"{{{Second}}}","key":"done","type":"transform","options":{"json":{"note":"{{ note }}"} } }]}}
            """);
        Assert.True(flow["ok"]!.GetValue<bool>(), flow.ToJsonString());
        var id = flow["result"]!["id"]!.GetValue<string>();
        Assert.Equal($"{PublicUrl}/admin/settings/flows/{id}", flow["url"]!.GetValue<string>());
        Assert.Equal(2, flow["result"]!["operations"]!.AsArray().Count);
        return id;
    }

    private async Task<long> RunsAsync(string flow)
    {
        await using var cmd = _db.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            $"select count(*) from content_activity where action = 'run' and item = '{flow}'");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Reads_take_fields_with_relations_expanded_and_sort()
    {
        var id = await CreateManualAsync();
        await _db.ResultAsync("flows", """{"action":"create","data":{"name":"Another","trigger":"webhook"}}""");

        var flows = await _db.ResultAsync("flows", """{"action":"read","query":{"fields":["name","operation.key","operations.key","operations.type"],"sort":["-name"]}}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            [{"name":"Note it","operation":{"key":"note"},"operations":[{"key":"note","type":"item-create"},{"key":"done","type":"transform"}]},
             {"name":"Another","operation":null,"operations":[]}]
            """), flows), flows?.ToJsonString());
        var operations = await _db.ResultAsync("operations", """{"action":"read","query":{"fields":["key","flow.name","resolve.key"],"sort":["position_x"]}}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"key":"note","flow":{"name":"Note it"},"resolve":{"key":"done"}},{"key":"done","flow":{"name":"Note it"},"resolve":null}]"""),
            operations), operations?.ToJsonString());
        var ascending = await _db.ResultAsync("flows", """{"action":"read","query":{"fields":["*"],"sort":["name"],"limit":1}}""");
        Assert.Equal(("Another", 13), (ascending![0]!["name"]!.GetValue<string>(), ascending[0]!.AsObject().Count));

        var unknown = await _db.ErrorAsync("flows", """{"action":"read","query":{"fields":["name","colour"]}}""");
        Assert.Equal("FORBIDDEN", Code(unknown));
        Assert.Contains("colour", unknown["message"]!.GetValue<string>());
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("flows", """{"action":"read","query":{"fields":["name.first"]}}""")));
        _ = id;
    }

    [Fact]
    public async Task Flows_are_created_with_laid_out_operations_read_by_query_updated_and_deleted()
    {
        var id = await CreateManualAsync();
        var operations = await _db.ResultAsync("operations", $$$"""{"action":"read","query":{"filter":{"flow":{"_eq":"{{{id}}}"} } } }""");
        Assert.Equal([(19, 1, "note"), (37, 1, "done")], operations!.AsArray()
            .Select(o => (o!["position_x"]!.GetValue<int>(), o["position_y"]!.GetValue<int>(), o["key"]!.GetValue<string>())).OrderBy(p => p.Item1));

        var manual = await _db.ResultAsync("flows", """{"action":"read","query":{"filter":{"trigger":{"_eq":"manual"} } } }""");
        Assert.Equal(id, manual!.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.Empty((await _db.ResultAsync("flows", """{"action":"read","query":{"filter":{"trigger":{"_eq":"webhook"} } } }"""))!.AsArray());

        var updated = await _db.ResultAsync("flows", $$$"""{"action":"update","key":"{{{id}}}","data":{"status":"inactive"} }""");
        Assert.Equal("inactive", updated!["status"]!.GetValue<string>());
        var bad = await _db.ErrorAsync("flows", $$$"""{"action":"update","key":"{{{id}}}","data":{"trigger":"schedule","options":{"cron":"whenever"} } }""");
        Assert.Equal("INVALID_PAYLOAD", Code(bad));
        Assert.Contains("options.cron", bad["message"]!.GetValue<string>());

        Assert.Equal(id, (await _db.ResultAsync("flows", $$$"""{"action":"delete","key":"{{{id}}}"}"""))!.GetValue<string>());
        Assert.Empty((await _db.ResultAsync("operations", """{"action":"read"}"""))!.AsArray());
    }

    [Fact]
    public async Task Operations_are_created_linked_refused_when_moving_linked_and_deleted()
    {
        var id = await CreateManualAsync();
        var other = (await _db.ResultAsync("flows", """{"action":"create","data":{"name":"Other","trigger":"operation"} }"""))!["id"]!.GetValue<string>();
        var created = await _db.ExecuteAsync("operations", $$$"""{"action":"create","data":{"flow":"{{{id}}}","key":"say","type":"log","options":{"message":"hi"} } }""");
        Assert.True(created["ok"]!.GetValue<bool>(), created.ToJsonString());
        Assert.Equal($"{PublicUrl}/admin/settings/flows/{id}", created["url"]!.GetValue<string>());
        var say = created["result"]!["id"]!.GetValue<string>();
        Assert.Equal((19, 17), (created["result"]!["position_x"]!.GetValue<int>(), created["result"]!["position_y"]!.GetValue<int>()));

        var moved = await _db.ErrorAsync("operations", $$$"""{"action":"update","key":"{{{First}}}","data":{"flow":"{{{other}}}"} }""");
        Assert.Equal("INVALID_PAYLOAD", Code(moved));
        Assert.Equal(other, (await _db.ResultAsync("operations", $$$"""{"action":"update","key":"{{{say}}}","data":{"flow":"{{{other}}}"} }"""))!["flow"]!.GetValue<string>());

        var unknown = await _db.ErrorAsync("operations", $$$"""{"action":"create","data":{"flow":"{{{id}}}","key":"x","type":"teleport"} }""");
        Assert.Contains("teleport", unknown["message"]!.GetValue<string>());
        Assert.Equal(Second, (await _db.ResultAsync("operations", $$$"""{"action":"delete","key":"{{{Second}}}"}"""))!.GetValue<string>());
        var left = await _db.ResultAsync("operations", $$$"""{"action":"read","query":{"filter":{"flow":{"_eq":"{{{id}}}"} } } }""");
        Assert.Null(left!.AsArray().Single()!["resolve"]);
    }

    [Fact]
    public async Task Trigger_flow_asks_for_approval_in_chat_runs_once_approved_and_checks_its_flow()
    {
        var id = await CreateManualAsync();
        var input = JsonNode.Parse($$$"""{"id":"{{{id}}}","collection":"notes","keys":[],"data":{"text":"from chat"} }""");
        var chat = new ToolScope(ToolSurface.Chat, new HashSet<string> { "flows", "operations", "trigger-flow" }, ToolScope.NoApprovals);

        var asked = await _db.Registry.ExecuteAsync("trigger-flow", input, Admin, chat, new ApprovalAnswer("call_1", null), CancellationToken.None);
        Assert.NotNull(asked.ApprovalRequired);
        Assert.Equal(0, await RunsAsync(id)); // nothing ran before the answer
        var read = await _db.Registry.ExecuteAsync("flows", JsonNode.Parse("""{"action":"read"}"""), Admin, chat, new ApprovalAnswer("call_2", null), CancellationToken.None);
        Assert.Null(read.ApprovalRequired); // reading flows is read-only

        var approved = await _db.Registry.ExecuteAsync("trigger-flow", input, Admin, chat, new ApprovalAnswer("call_1", asked.ApprovalRequired), CancellationToken.None);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"data":{"note":1}}"""), approved.Result), approved.ToEnvelope().ToJsonString());
        Assert.Equal(1, await RunsAsync(id));

        var always = chat with { Approvals = new Dictionary<string, string> { ["trigger-flow"] = "always" } };
        Assert.Null((await _db.Registry.ExecuteAsync("trigger-flow", input, Admin, always, new ApprovalAnswer("call_3", null), CancellationToken.None)).ApprovalRequired);
        Assert.Equal(2, await RunsAsync(id));

        var missing = await _db.ErrorAsync("trigger-flow", $$$"""{"id":"{{{id}}}","collection":"notes"}""");
        Assert.Equal("Invalid payload. Required field \"text\" is missing.", missing["message"]!.GetValue<string>());
        var webhook = (await _db.ResultAsync("flows", """{"action":"create","data":{"name":"Hook","trigger":"webhook","options":{"method":"POST"} } }"""))!["id"]!.GetValue<string>();
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("trigger-flow", $$$"""{"id":"{{{webhook}}}","collection":"notes"}""")));
    }

    [Fact]
    public async Task The_flow_tools_are_admin_only_and_invisible_to_users()
    {
        var user = _db.Grant("00000000-0000-0000-0000-0000000000d9", Rule("notes", "read"));
        foreach (var tool in new[] { "flows", "operations", "trigger-flow" })
        {
            var error = await _db.ErrorAsync(tool, tool == "trigger-flow" ? """{"id":"x","collection":"notes"}""" : """{"action":"read"}""", user);
            Assert.Equal("UNKNOWN_TOOL", Code(error));
        }
    }
}
