using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Access;
using AiAssistant.ProviderSimulator;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// The assistant's tools through the gateway, with the provider simulator playing the model: discovery through
/// search, execution through execute, approvals enforced by the server (requested, approved, denied; forged, edited,
/// replayed and another user's approvals run nothing), what a request or a user may not see, and row permissions in
/// tool output.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class AssistantToolsTests(EndToEndFixture e2e)
{
    private async Task<string> CollectionAsync(string prefix)
    {
        var name = prefix + "_" + Guid.NewGuid().ToString("N")[..6];
        await e2e.PostAsync("/collections", new
        {
            collection = name, schema = new { },
            fields = new object[] { new { field = "title", type = "string" }, new { field = "owner", type = "uuid" }, new { field = "secret", type = "string" } },
        });
        return name;
    }

    internal static object Body(object[] messages, string[] tools, object? toolApprovals = null) => new
    {
        provider = "openai-compatible", model = "sim-model", tools, messages, toolApprovals,
    };

    internal static object User(string text) => new { id = "u" + Guid.NewGuid().ToString("N")[..6], role = "user", parts = new[] { new { type = "text", text } } };

    /// <summary>The assistant message as the AI SDK client holds it after the user answered the approval request.</summary>
    internal static object Answered(string callId, JsonNode input, string approvalId, string signature, bool approved) => new
    {
        id = "a1", role = "assistant",
        parts = new object[]
        {
            new { type = "step-start" },
            new { type = "tool-execute", toolCallId = callId, state = "approval-responded", input, approval = new { id = approvalId, approved, signature } },
        },
    };

    [Fact]
    public async Task The_model_discovers_a_tool_loads_its_details_and_executes_it_without_approval_for_a_read()
    {
        await e2e.UseNewKeyAsync();
        var posts = await CollectionAsync("posts");
        await e2e.PostAsync($"/items/{posts}", new { title = "Hello world" });
        e2e.Simulator.Enqueue(
            SimulatedReply.ToolCalls(("search", """{"query":"read items of a collection"}""")),
            SimulatedReply.ToolCalls(("search", """{"names":["items"]}""")),
            SimulatedReply.ToolCalls(("execute", $$$$"""{"name":"items","input":{"action":"read","collection":"{{{{posts}}}}","query":{"fields":["title"]}}}""")),
            SimulatedReply.Text("There is one post."));

        var stream = await EndToEndFixture.ChatAsync(e2e.Gateway, Body([User("What posts are there?")], ["items", "files"]));

        Assert.DoesNotContain("tool-approval-request", stream.Types);
        var outputs = stream.Chunks.Where(c => c["type"]!.GetValue<string>() == "tool-output-available").Select(c => c["output"]!).ToList();
        Assert.Equal(3, outputs.Count);
        Assert.Equal("items", outputs[0]["result"]!["results"]![0]!["name"]!.GetValue<string>());
        Assert.Contains("interface Input", outputs[1]["result"]!["results"]![0]!["inputType"]!.GetValue<string>());
        Assert.True(outputs[2]["ok"]!.GetValue<bool>());
        Assert.Equal("Hello world", outputs[2]["result"]![0]!["title"]!.GetValue<string>());
        Assert.Equal("There is one post.", stream.Text);
        // the model only ever saw the root tools
        var tools = JsonNode.Parse(e2e.Simulator.Requests[^1].Body)!["tools"]!.AsArray().Select(t => t!["function"]!["name"]!.GetValue<string>());
        Assert.Equal(["execute", "schema", "search"], tools);
    }

    [Fact]
    public async Task A_write_runs_only_with_the_approval_the_server_issued_for_this_user_call_and_input_and_only_once()
    {
        await e2e.UseNewKeyAsync();
        var posts = await CollectionAsync("posts");
        var input = JsonNode.Parse($$$$"""{"name":"items","input":{"action":"create","collection":"{{{{posts}}}}","data":{"title":"From the assistant"}}}""")!;
        e2e.Simulator.Enqueue(SimulatedReply.ToolCalls(("execute", input.ToJsonString())));
        var ask = User("Create a post");

        var first = await EndToEndFixture.ChatAsync(e2e.Gateway, Body([ask], ["items"]));
        var request = first.Single("tool-approval-request");
        Assert.DoesNotContain("tool-output-available", first.Types);
        Assert.Equal(["finish", "data-usage"], first.Types.TakeLast(2));
        Assert.Equal("tool-calls", first.Single("finish")["finishReason"]!.GetValue<string>());
        var (callId, approvalId, signature) = (request["toolCallId"]!.GetValue<string>(), request["approvalId"]!.GetValue<string>(), request["signature"]!.GetValue<string>());
        Assert.Equal(first.Single("tool-input-available")["toolCallId"]!.GetValue<string>(), callId);
        Assert.Equal(0, await CountAsync(posts));

        async Task<ChatStream> AnswerAsync(HttpClient client, JsonNode callInput, string id, string sig, bool approved = true)
        {
            e2e.Simulator.Enqueue(SimulatedReply.Text("Done."));
            return await EndToEndFixture.ChatAsync(client, Body([ask, Answered(callId, callInput, id, sig, approved)], ["items"]));
        }

        // edited input, forged signature, another user with the same answer: an error for the call, nothing written
        var (_, _, other) = await AccessTestUsers.GrantableUserAsync(e2e.Gateway, e2e.GatewayUrl, app: true);
        var edited = JsonNode.Parse(input.ToJsonString().Replace("From the assistant", "Edited"))!;
        foreach (var refused in new[]
        {
            await AnswerAsync(e2e.Gateway, edited, approvalId, signature),
            await AnswerAsync(e2e.Gateway, input, approvalId, signature[..^3] + "abc"),
            await AnswerAsync(other, input, approvalId, signature),
            await AnswerAsync(e2e.Gateway, input, approvalId.Replace("apr_", "apr_1"), signature),
        })
        {
            Assert.Contains("not honoured", refused.Single("tool-output-error")["errorText"]!.GetValue<string>());
            Assert.DoesNotContain("tool-output-available", refused.Types);
        }
        Assert.Equal(0, await CountAsync(posts));

        var approved = await AnswerAsync(e2e.Gateway, input, approvalId, signature);
        var output = approved.Single("tool-output-available");
        Assert.Equal(callId, output["toolCallId"]!.GetValue<string>());
        Assert.True(output["output"]!["ok"]!.GetValue<bool>());
        Assert.Equal(["start", "tool-output-available", "start-step"], approved.Types.Take(3));
        Assert.Equal(1, await CountAsync(posts));
        Assert.Contains("From the assistant", e2e.Simulator.Requests[^1].Body); // the model read the result

        var replayed = await AnswerAsync(e2e.Gateway, input, approvalId, signature);
        Assert.Contains("already used", replayed.Single("tool-output-error")["errorText"]!.GetValue<string>());
        Assert.Equal(1, await CountAsync(posts));
    }

    [Fact]
    public async Task A_denied_call_streams_tool_output_denied_runs_nothing_and_the_model_is_told()
    {
        await e2e.UseNewKeyAsync();
        var posts = await CollectionAsync("posts");
        var input = JsonNode.Parse($$$$"""{"name":"items","input":{"action":"create","collection":"{{{{posts}}}}","data":{"title":"No"}}}""")!;
        e2e.Simulator.Enqueue(SimulatedReply.ToolCalls(("execute", input.ToJsonString())));
        var ask = User("Create a post");
        var request = (await EndToEndFixture.ChatAsync(e2e.Gateway, Body([ask], ["items"]))).Single("tool-approval-request");

        e2e.Simulator.Enqueue(SimulatedReply.Text("Understood, I will not."));
        var denied = await EndToEndFixture.ChatAsync(e2e.Gateway, Body([ask, Answered(request["toolCallId"]!.GetValue<string>(), input,
            request["approvalId"]!.GetValue<string>(), request["signature"]!.GetValue<string>(), approved: false)], ["items"]));

        Assert.Equal(request["toolCallId"]!.GetValue<string>(), denied.Single("tool-output-denied")["toolCallId"]!.GetValue<string>());
        Assert.Equal(0, await CountAsync(posts));
        Assert.Contains("APPROVAL_DENIED", e2e.Simulator.Requests[^1].Body);
        Assert.Equal("Understood, I will not.", denied.Text);
    }

    [Fact]
    public async Task Always_runs_without_asking_and_disabled_or_admin_only_tools_do_not_exist()
    {
        await e2e.UseNewKeyAsync();
        var posts = await CollectionAsync("posts");
        e2e.Simulator.Enqueue(
            SimulatedReply.ToolCalls(("execute", $$$$"""{"name":"items","input":{"action":"create","collection":"{{{{posts}}}}","data":{"title":"auto"}}}""")),
            SimulatedReply.Text("ok"));
        var always = await EndToEndFixture.ChatAsync(e2e.Gateway, Body([User("go")], ["items"], new Dictionary<string, string> { ["items"] = "always" }));
        Assert.True(always.Single("tool-output-available")["output"]!["ok"]!.GetValue<bool>());
        Assert.Equal(1, await CountAsync(posts));

        e2e.Simulator.Enqueue(
            SimulatedReply.ToolCalls(("search", """{"query":"items"}"""), ("execute", """{"name":"items","input":{"action":"read","collection":"x"}}""")),
            SimulatedReply.Text("ok"));
        var disabled = await EndToEndFixture.ChatAsync(e2e.Gateway, Body([User("go")], ["items"], new Dictionary<string, string> { ["items"] = "disabled" }));
        var outputs = disabled.Chunks.Where(c => c["type"]!.GetValue<string>() == "tool-output-available").Select(c => c["output"]!).ToList();
        Assert.Empty(outputs[0]["result"]!["results"]!.AsArray());
        Assert.Equal("UNKNOWN_TOOL", outputs[1]["error"]!["code"]!.GetValue<string>());

        var (_, _, editor) = await AccessTestUsers.GrantableUserAsync(e2e.Gateway, e2e.GatewayUrl, app: true);
        e2e.Simulator.Enqueue(
            SimulatedReply.ToolCalls(("search", """{"query":"collections"}"""), ("execute", """{"name":"collections","input":{"action":"read"}}""")),
            SimulatedReply.Text("ok"));
        var adminOnly = await EndToEndFixture.ChatAsync(editor, Body([User("go")], ["collections"]));
        outputs = adminOnly.Chunks.Where(c => c["type"]!.GetValue<string>() == "tool-output-available").Select(c => c["output"]!).ToList();
        Assert.DoesNotContain(outputs[0]["result"]!["results"]!.AsArray(), r => r!["name"]!.GetValue<string>() == "collections");
        Assert.Equal("UNKNOWN_TOOL", outputs[1]["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_app_user_with_a_row_filter_sees_only_its_rows_and_fields_in_tool_output()
    {
        await e2e.UseNewKeyAsync();
        var notes = await CollectionAsync("notes");
        var (user, policy, client) = await AccessTestUsers.GrantableUserAsync(e2e.Gateway, e2e.GatewayUrl, app: true);
        await e2e.PostAsync("/permissions", new
        {
            policy, collection = notes, action = "read", permissions = new { owner = new { _eq = "$CURRENT_USER" } }, fields = new[] { "id", "title", "owner" },
        });
        await e2e.PostAsync($"/items/{notes}", new object[]
        {
            new { title = "mine", owner = user.Id, secret = "S1" }, new { title = "theirs", owner = Guid.NewGuid(), secret = "S2" },
        });
        Assert.True(await AccessTestUsers.BecomesAsync(client, $"/items/{notes}", 200, TimeSpan.FromSeconds(2)), "the grant did not apply");

        e2e.Simulator.Enqueue(
            SimulatedReply.ToolCalls(("execute", $$$$"""{"name":"items","input":{"action":"read","collection":"{{{{notes}}}}"}}""")),
            SimulatedReply.Text("ok"));
        var stream = await EndToEndFixture.ChatAsync(client, Body([User("my notes")], ["items"]));

        var rows = stream.Single("tool-output-available")["output"]!["result"]!.AsArray();
        Assert.Equal(["mine"], rows.Select(r => r!["title"]!.GetValue<string>()));
        Assert.Null(rows[0]!["secret"]);
        Assert.DoesNotContain("theirs", e2e.Simulator.Requests[^1].Body);
        Assert.DoesNotContain("S1", e2e.Simulator.Requests[^1].Body);
    }

    private Task<long> CountAsync(string collection) => e2e.ContentScalarAsync($"select count(*) from \"{collection}\"");
}
