using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AiAssistant.ProviderSimulator;
using Xunit;
using static AiAssistant.Tests.Simulator.ServerSentEvents;

namespace AiAssistant.Tests.Simulator;

public sealed class ProviderSimulatorTests : IAsyncLifetime
{
    private SimulatorServer sim = null!;
    private HttpClient client = null!;

    public async Task InitializeAsync()
    {
        sim = await SimulatorServer.StartAsync(port: 0);
        client = new HttpClient { BaseAddress = new Uri(sim.BaseUrl + "/") };
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await sim.DisposeAsync();
    }

    [Fact]
    public void BaseUrl_names_the_loopback_port_actually_bound()
    {
        Assert.NotEqual(0, sim.Port);
        Assert.Equal($"http://127.0.0.1:{sim.Port}/v1", sim.BaseUrl);
    }

    [Fact]
    public async Task Streamed_text_arrives_in_several_chunks_that_concatenate_to_the_script_then_usage_then_done()
    {
        const string text = "Your site has three collections: posts, authors and pages.";
        sim.Enqueue(SimulatedReply.Text(text));

        using var response = await PostAsync(new { model = "gpt-5.4-mini", stream = true, stream_options = new { include_usage = true }, messages = UserSays("Hi") });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var data = await ReadDataAsync(response);
        Assert.Equal("[DONE]", data[^1]);
        var chunks = Chunks(data);
        Assert.All(chunks, chunk => Assert.Equal("chat.completion.chunk", chunk.GetProperty("object").GetString()));
        Assert.All(chunks, chunk => Assert.Equal("gpt-5.4-mini", chunk.GetProperty("model").GetString()));
        Assert.Single(chunks.Select(chunk => chunk.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());

        var pieces = chunks.Select(DeltaContent).Where(piece => !string.IsNullOrEmpty(piece)).ToList();
        Assert.True(pieces.Count > 5, $"expected the text in word-sized chunks, got {pieces.Count}");
        Assert.Equal(text, string.Concat(pieces));
        Assert.Equal("stop", FinishReason(chunks[^2]));

        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        var usage = usageChunk.GetProperty("usage");
        Assert.Equal(pieces.Count, usage.GetProperty("completion_tokens").GetInt32());
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal(
            usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(),
            usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Default_tool_calls_answer_a_user_turn_with_the_calls_and_a_tool_result_with_text()
    {
        sim.DefaultToolCalls = SimulatedReply.ToolCalls(("search", """{"query":"x"}"""));
        using var first = await PostAsync(new { model = "m", stream = false, messages = UserSays("Hi") });
        var call = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("search", call.GetProperty("tool_calls")[0].GetProperty("function").GetProperty("name").GetString());

        using var second = await PostAsync(new
        {
            model = "m", stream = false,
            messages = new object[]
            {
                new { role = "user", content = "Hi" },
                new { role = "assistant", content = (string?)null, tool_calls = new[] { new { id = "c1", type = "function", function = new { name = "search", arguments = "{}" } } } },
                new { role = "tool", tool_call_id = "c1", content = "{\"ok\":true}" },
            },
        });
        var text = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal(SimulatorServer.FixedReplyText, text.GetProperty("content").GetString());
    }

    [Fact]
    public async Task Streaming_without_include_usage_sends_no_usage()
    {
        using var response = await PostAsync(new { model = "m", stream = true, messages = UserSays("Hi") });

        var chunks = Chunks(await ReadDataAsync(response));
        Assert.All(chunks, chunk => Assert.False(chunk.TryGetProperty("usage", out _)));
        Assert.All(chunks, chunk => Assert.Equal(1, chunk.GetProperty("choices").GetArrayLength()));
        Assert.Equal("stop", FinishReason(chunks[^1]));
    }

    [Fact]
    public async Task Streamed_tool_calls_carry_id_and_name_and_arguments_split_over_chunks()
    {
        const string schemaArgs = """{"keys":["posts","authors"]}""";
        const string searchArgs = """{"query":"articles about the spring launch","limit":5}""";
        sim.Enqueue(SimulatedReply.ToolCalls(("schema", schemaArgs), ("search", searchArgs)));

        using var response = await PostAsync(new { model = "m", stream = true, messages = UserSays("What is there?") });

        var data = await ReadDataAsync(response);
        Assert.Equal("[DONE]", data[^1]);
        var chunks = Chunks(data);
        var deltas = chunks
            .SelectMany(chunk => chunk.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out var calls) ? calls.EnumerateArray() : [])
            .ToList();
        var calls = deltas.GroupBy(delta => delta.GetProperty("index").GetInt32()).OrderBy(group => group.Key).ToList();
        Assert.Equal([0, 1], calls.Select(call => call.Key));

        var ids = calls.Select(call => call.First().GetProperty("id").GetString()).ToList();
        Assert.All(ids, id => Assert.StartsWith("call_", id));
        Assert.NotEqual(ids[0], ids[1]);
        Assert.Equal(["schema", "search"], calls.Select(call => call.First().GetProperty("function").GetProperty("name").GetString()));
        Assert.All(calls, call => Assert.Equal("function", call.First().GetProperty("type").GetString()));

        var arguments = calls.Select(call => call.Select(delta => delta.GetProperty("function").GetProperty("arguments").GetString())).ToList();
        Assert.All(arguments, pieces => Assert.True(pieces.Count(piece => piece!.Length > 0) > 1, "arguments should arrive in several chunks"));
        Assert.Equal([schemaArgs, searchArgs], arguments.Select(pieces => string.Concat(pieces)));

        Assert.Equal("tool_calls", FinishReason(chunks[^1]));
        Assert.DoesNotContain(chunks, chunk => !string.IsNullOrEmpty(DeltaContent(chunk)));
    }

    [Fact]
    public async Task Non_streaming_text_is_one_chat_completion_with_usage()
    {
        sim.Enqueue(SimulatedReply.Text("Three collections."));

        using var response = await PostAsync(new { model = "gpt-5.4", messages = UserSays("How many?") });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var completion = await ReadJsonAsync(response);
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        Assert.Equal("gpt-5.4", completion.GetProperty("model").GetString());
        var choice = completion.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("Three collections.", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(2, completion.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Non_streaming_tool_calls_are_in_the_message()
    {
        sim.Enqueue(SimulatedReply.ToolCalls(("schema", """{"keys":["posts"]}""")));

        using var response = await PostAsync(new { model = "m", messages = UserSays("Schema?") });

        var choice = (await ReadJsonAsync(response)).GetProperty("choices")[0];
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        var call = Assert.Single(choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray());
        Assert.StartsWith("call_", call.GetProperty("id").GetString());
        Assert.Equal("schema", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"keys":["posts"]}""", call.GetProperty("function").GetProperty("arguments").GetString());
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_scripted_error_answers_with_its_status_and_an_OpenAI_error_body(bool stream)
    {
        sim.Enqueue(SimulatedReply.Error(401, "bad key"));

        using var response = await PostAsync(new { model = "m", stream, messages = UserSays("Hi") });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await ReadJsonAsync(response)).GetProperty("error");
        Assert.Equal("bad key", error.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Requests_are_recorded_with_headers_and_raw_body_until_cleared()
    {
        const string body = """{"model":"m","messages":[{"role":"user","content":"Hello"}]}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "K1");
        request.Headers.Add("X-Tenant", "acme");
        using (await client.SendAsync(request))
        {
        }

        var recorded = Assert.Single(sim.Requests);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("/v1/chat/completions", recorded.Path);
        Assert.Equal("Bearer K1", recorded.Headers["authorization"]);
        Assert.Equal("acme", recorded.Headers["x-tenant"]);
        Assert.Equal(body, recorded.Body);

        sim.ClearRequests();
        Assert.Empty(sim.Requests);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_paced_stream_delivers_its_first_chunk_before_the_stream_ends(bool asDefault)
    {
        var pacing = new Pacing(TimeSpan.Zero, TimeSpan.FromMilliseconds(200));
        var reply = SimulatedReply.Text("one two three four");
        if (asDefault)
        {
            sim.DefaultPacing = pacing;
            sim.Enqueue(reply);
        }
        else
        {
            sim.Enqueue(reply.WithPacing(pacing));
        }

        using var response = await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = Json(new { model = "m", stream = true, messages = UserSays("Hi") }) },
            HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        string? firstContent = null;
        while (firstContent is null && await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: {", StringComparison.Ordinal))
            {
                firstContent = DeltaContent(JsonDocument.Parse(line["data: ".Length..]).RootElement) is { Length: > 0 } piece ? piece : null;
            }
        }

        var rest = reader.ReadToEndAsync();
        Assert.Equal("one", firstContent);
        Assert.False(rest.IsCompleted, "the first token was read only after the whole stream had arrived");
        Assert.EndsWith("data: [DONE]\n\n", await rest);
    }

    [Fact]
    public async Task Scripted_replies_are_served_in_order_then_the_fixed_reply()
    {
        sim.Enqueue(SimulatedReply.Text("first"), SimulatedReply.Text("second"));

        var answers = new List<string?>();
        for (int i = 0; i < 3; i++)
        {
            using var response = await PostAsync(new { model = "m", messages = UserSays("Hi") });
            answers.Add((await ReadJsonAsync(response)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }

        Assert.Equal(["first", "second", SimulatorServer.FixedReplyText], answers);
        Assert.Equal(0, sim.PendingReplies);
    }

    [Fact]
    public async Task A_hang_up_leaves_the_client_an_incomplete_stream()
    {
        sim.Enqueue(SimulatedReply.HangUp(afterChunks: 2, text: "one two three four five"));

        using var response = await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = Json(new { model = "m", stream = true, messages = UserSays("Hi") }) },
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var lines = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                lines.Add(line);
            }
        });

        Assert.DoesNotContain("data: [DONE]", lines);
        var chunks = Chunks(lines.Where(line => line.StartsWith("data: ", StringComparison.Ordinal)).Select(line => line["data: ".Length..]));
        Assert.DoesNotContain(chunks, chunk => FinishReason(chunk) is not null);
        Assert.Equal("one two", string.Concat(chunks.Select(DeltaContent)));
    }

    [Fact]
    public async Task Models_are_listed_in_OpenAI_format()
    {
        sim.Models = ["gpt-5.4", "custom-model"];

        var list = JsonDocument.Parse(await client.GetStringAsync("models")).RootElement;

        Assert.Equal("list", list.GetProperty("object").GetString());
        Assert.Equal(["gpt-5.4", "custom-model"], list.GetProperty("data").EnumerateArray().Select(model => model.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task A_required_api_key_rejects_other_keys_without_consuming_the_script()
    {
        sim.RequiredApiKey = "K2";
        sim.Enqueue(SimulatedReply.Text("for the right key"));

        using var wrong = await PostAsync(new { model = "m", messages = UserSays("Hi") }, apiKey: "K1");
        using var right = await PostAsync(new { model = "m", messages = UserSays("Hi") }, apiKey: "K2");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("invalid_api_key", (await ReadJsonAsync(wrong)).GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal("for the right key", (await ReadJsonAsync(right)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task The_control_api_scripts_replies_reads_requests_and_sets_pacing()
    {
        using var control = new HttpClient { BaseAddress = sim.Origin };
        using var enqueued = await control.PostAsync("_sim/replies", new StringContent("""
            [
              { "text": "scripted over HTTP" },
              { "toolCalls": [ { "name": "schema", "arguments": { "keys": ["posts"] } } ] },
              { "error": { "status": 429, "message": "slow down" } }
            ]
            """, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, enqueued.StatusCode);
        Assert.Equal(3, sim.PendingReplies);

        using (var text = await PostAsync(new { model = "m", messages = UserSays("Hi") }))
        {
            Assert.Equal("scripted over HTTP", (await ReadJsonAsync(text)).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }

        using (var tools = await PostAsync(new { model = "m", messages = UserSays("Hi") }))
        {
            var call = (await ReadJsonAsync(tools)).GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0];
            Assert.Equal("""{"keys":["posts"]}""", call.GetProperty("function").GetProperty("arguments").GetString());
        }

        using (var error = await PostAsync(new { model = "m", messages = UserSays("Hi") }))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
            Assert.Equal("rate_limit_exceeded", (await ReadJsonAsync(error)).GetProperty("error").GetProperty("code").GetString());
        }

        var requests = JsonDocument.Parse(await control.GetStringAsync("_sim/requests")).RootElement;
        Assert.Equal(3, requests.GetArrayLength());
        Assert.Equal("/v1/chat/completions", requests[0].GetProperty("path").GetString());
        using (await control.DeleteAsync("_sim/requests"))
        {
        }

        Assert.Empty(sim.Requests);

        using var paced = await control.PutAsync("_sim/pacing", new StringContent("""{"timeToFirstTokenMs":5,"betweenTokensMs":7}"""));
        Assert.Equal(HttpStatusCode.OK, paced.StatusCode);
        Assert.Equal(Pacing.FromMilliseconds(5, 7), sim.DefaultPacing);

        using var invalid = await control.PostAsync("_sim/replies", new StringContent("""[{"toolCalls":[]}]"""));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(0, sim.PendingReplies);
    }

    private static object[] UserSays(string text) => [new { role = "user", content = text }];

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> PostAsync(object body, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions") { Content = Json(body) };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return await client.SendAsync(request);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
}
