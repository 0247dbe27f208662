using System.Text.Json.Nodes;
using AiAssistant.ProviderSimulator;
using AiAssistant.Tests.EndToEnd;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using static AiAssistant.Tests.EndToEnd.AssistantToolsTests;

namespace AiAssistant.Tests.Flows;

/// <summary>
/// The flows tools through chat, with the provider simulator playing the model: it creates a flow with two operations,
/// triggers it only after the user approved that call, and the run is read back.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class FlowsThroughChatTests(EndToEndFixture e2e)
{
    private const string First = "7d000000-0000-4000-8000-000000000001", Second = "7d000000-0000-4000-8000-000000000002";

    [Fact]
    public async Task The_model_creates_a_flow_with_two_operations_triggers_it_after_approval_and_the_run_is_read()
    {
        await e2e.UseNewKeyAsync();
        var name = "Greet " + Guid.NewGuid().ToString("N")[..6];
        var create = $$$$"""
            {"name":"flows","input":{"action":"create","data":{"name":"{{{{name}}}}","trigger":"manual","options":{"collections":["directus_files"]},"operation":"{{{{First}}}}",
             "operations":[{"id":"{{{{First}}}}","key":"hello","type":"transform","options":{"json":{"greeting":"Hello {{ $trigger.body.name }}"}},"resolve":"{{{{Second}}}}"},
                           {"id":"{{{{Second}}}}","key":"answer","type":"transform","options":{"json":{"said":"{{ hello.greeting }}","keys":"{{ $trigger.body.keys }}"}}}]}}}
            """;
        e2e.Simulator.Enqueue(SimulatedReply.ToolCalls(("execute", create)), SimulatedReply.Text("Created."));
        var made = await EndToEndFixture.ChatAsync(e2e.Gateway, Body([User("Make a greeting flow")], ["flows", "trigger-flow"],
            new Dictionary<string, string> { ["flows"] = "always" }));
        var created = made.Single("tool-output-available")["output"]!;
        Assert.True(created["ok"]!.GetValue<bool>(), created.ToJsonString());
        var flow = created["result"]!["id"]!.GetValue<string>();
        Assert.Equal(2, created["result"]!["operations"]!.AsArray().Count);

        var trigger = JsonNode.Parse($$$$"""{"name":"trigger-flow","input":{"id":"{{{{flow}}}}","collection":"directus_files","keys":["k1"],"data":{"name":"Ada"}}}""")!;
        e2e.Simulator.Enqueue(SimulatedReply.ToolCalls(("execute", trigger.ToJsonString())));
        var ask = User("Run it for Ada");
        var asked = await EndToEndFixture.ChatAsync(e2e.Gateway, Body([ask], ["flows", "trigger-flow"]));
        var request = asked.Single("tool-approval-request");
        Assert.DoesNotContain("tool-output-available", asked.Types);
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from content_activity where action = 'run' and item = '{flow}'")); // nothing ran yet

        e2e.Simulator.Enqueue(SimulatedReply.Text("It said hello."));
        var answered = await EndToEndFixture.ChatAsync(e2e.Gateway, Body([ask, Answered(request["toolCallId"]!.GetValue<string>(), trigger,
            request["approvalId"]!.GetValue<string>(), request["signature"]!.GetValue<string>(), approved: true)], ["flows", "trigger-flow"]));
        var output = answered.Single("tool-output-available")["output"]!;
        Assert.True(output["ok"]!.GetValue<bool>(), output.ToJsonString());
        Assert.Contains("\"said\":\"Hello Ada\"", output.ToJsonString());
        Assert.Contains("Hello Ada", e2e.Simulator.Requests[^1].Body); // the model read the flow's answer

        var (status, body) = await e2e.Gateway.SendJsonAsync(HttpMethod.Get,
            $"/revisions?filter[collection][_eq]=directus_flows&filter[item][_eq]={flow}&filter[activity][action][_eq]=run");
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        var run = Assert.Single(body!["data"]!.AsArray())!["data"]!;
        Assert.Equal(("manual", "resolve"), (run["trigger"]!.GetValue<string>(), run["status"]!.GetValue<string>()));
        Assert.Equal(["hello", "answer"], run["steps"]!.AsArray().Select(s => s!["key"]!.GetValue<string>()));
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await e2e.Gateway.SendJsonAsync(HttpMethod.Delete, $"/flows/{flow}")).Status);
    }
}
