using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiAssistant.ProviderSimulator;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>Chat turns and bad input through the gateway, every service its own process.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class ChatThroughGatewayTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task A_schema_tool_call_streams_the_call_its_result_and_the_final_text()
    {
        await e2e.UseNewKeyAsync();
        var collection = "articles_" + Guid.NewGuid().ToString("N")[..6];
        using (var created = await e2e.Gateway.PostAsJsonAsync("/collections", new { collection, meta = new { note = "Blog articles" }, schema = new { } }))
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        e2e.Simulator.ClearRequests();
        e2e.Simulator.Enqueue(SimulatedReply.ToolCalls(("schema", "{}")), SimulatedReply.Text("There is a collection of articles."));
        var stream = await EndToEndFixture.ChatAsync(e2e.Gateway, EndToEndFixture.ChatBody("Which collections are there?", "items"));

        Assert.True(stream.Done);
        var types = stream.Types.ToList();
        Assert.Equal("start", types[0]);
        Assert.Equal(["finish", "data-usage"], types[^2..]);
        Assert.Equal("stop", stream.Single("finish")["finishReason"]!.GetValue<string>());
        Assert.True(types.IndexOf("tool-input-start") < types.IndexOf("tool-input-available"));
        Assert.True(types.IndexOf("tool-input-available") < types.IndexOf("tool-output-available"));
        Assert.True(types.IndexOf("tool-output-available") < types.IndexOf("text-delta"));
        Assert.Equal(2, types.Count(t => t == "start-step"));

        var call = stream.Single("tool-input-available");
        Assert.Equal("schema", call["toolName"]!.GetValue<string>());
        var output = stream.Single("tool-output-available");
        Assert.Equal(call["toolCallId"]!.GetValue<string>(), output["toolCallId"]!.GetValue<string>());
        Assert.True(output["output"]!["ok"]!.GetValue<bool>());
        var collections = output["output"]!["result"]!["collections"]!.AsArray().Select(c => c!.GetValue<string>());
        Assert.Contains(collection, collections);
        Assert.Equal("There is a collection of articles.", stream.Text);

        // The second provider call carried the tool result back to the model.
        var second = e2e.Simulator.Requests[^1].Body;
        Assert.Contains("\"role\":\"tool\"", second);
        Assert.Contains(collection, second);
    }

    [Fact]
    public async Task A_provider_error_arrives_as_an_error_chunk_without_the_key()
    {
        await e2e.UseNewKeyAsync();
        e2e.Simulator.Enqueue(SimulatedReply.Error(401, "Incorrect API key provided"));
        var stream = await EndToEndFixture.ChatAsync(e2e.Gateway, EndToEndFixture.ChatBody("Hello"));
        var error = stream.Single("error")["errorText"]!.GetValue<string>();
        Assert.Contains("401", error);
        Assert.True(stream.Done);
        lock (e2e.KeysUsed) Assert.DoesNotContain(e2e.KeysUsed, k => error.Contains(k));
    }

    [Theory]
    [InlineData("{not json", "")]
    [InlineData("""{"ai_openai_compatible_base_url": 5}""", "ai_openai_compatible_base_url")]
    [InlineData("""{"ai_openai_compatible_base_url": "file:///etc/passwd"}""", "ai_openai_compatible_base_url")]
    [InlineData("""{"ai_openai_compatible_headers": [{"header":"X-Evil","value":"a\r\nInjected: 1"}]}""", "ai_openai_compatible_headers")]
    [InlineData("""{"ai_unknown_field": "x"}""", "ai_unknown_field")]
    [InlineData("""{"ai_openai_compatible_name": "ok", "ai_openai_compatible_models": [{"id": ""}]}""", "ai_openai_compatible_models")]
    public async Task Bad_settings_are_a_400_naming_the_field_and_nothing_is_stored(string body, string field)
    {
        var before = await e2e.Gateway.GetStringAsync("/settings");
        using var response = await e2e.Gateway.PatchAsync("/settings", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!;
        Assert.Equal("INVALID_PAYLOAD", error["extensions"]!["code"]!.GetValue<string>());
        if (field.Length > 0) Assert.Equal(field, error["extensions"]!["field"]!.GetValue<string>());
        Assert.Equal(before, await e2e.Gateway.GetStringAsync("/settings"));
    }

    [Theory]
    [InlineData("""{"provider":"acme","model":"m","tools":[],"messages":[{"id":"1","role":"user","parts":[]}]}""", "provider")]
    [InlineData("""{"provider":"openai-compatible","model":"m","tools":[],"messages":[]}""", "messages")]
    [InlineData("""{"provider":"openai-compatible","model":"m","messages":[{"id":"1","role":"user","parts":[]}]}""", "tools")]
    [InlineData("""{"provider":"openai-compatible","tools":[],"messages":[{"id":"1","role":"user","parts":[]}]}""", "model")]
    public async Task Bad_chat_requests_are_a_400_naming_the_field(string body, string field)
    {
        using var response = await e2e.Gateway.PostAsync("/ai/chat", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!;
        Assert.Equal(field, error["extensions"]!["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Forbidden)]            // the Public policy, which holds no grant for these
    [InlineData("Bearer wrong-token", HttpStatusCode.Unauthorized)]
    public async Task Without_the_right_token_every_route_is_refused(string? authorization, HttpStatusCode expected)
    {
        using var client = new HttpClient { BaseAddress = new Uri(e2e.GatewayUrl) };
        if (authorization is not null) client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        foreach (var (method, path) in new[] { ("GET", "/settings"), ("PATCH", "/settings"), ("POST", "/ai/chat"), ("GET", "/activity") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == expected, $"{method} {path} answered {(int)response.StatusCode}");
        }
        Assert.Equal("pong", await client.GetStringAsync("/server/ping"));
    }

    [Fact]
    public async Task Reading_settings_masks_the_key_and_writing_the_mask_back_keeps_it()
    {
        var key = await e2e.UseNewKeyAsync();
        var read = JsonNode.Parse(await e2e.Gateway.GetStringAsync("/settings"))!["data"]!;
        Assert.Equal("**********", read["ai_openai_compatible_api_key"]!.GetValue<string>());

        var saved = await e2e.PatchSettingsAsync(new { ai_openai_compatible_api_key = "**********" });
        Assert.Equal("**********", saved["ai_openai_compatible_api_key"]!.GetValue<string>());
        // Had the mask replaced the key, every replica would have picked it up within a second.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        foreach (var replica in e2e.ChatReplicas)
            Assert.Equal($"Bearer {key}", await e2e.KeySeenFromAsync(replica.HttpUrl));
    }
}
