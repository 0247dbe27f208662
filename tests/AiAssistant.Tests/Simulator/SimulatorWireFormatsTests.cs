using System.Net;
using System.Text;
using System.Text.Json;
using AiAssistant.ProviderSimulator;
using Xunit;

namespace AiAssistant.Tests.Simulator;

/// <summary>
/// The simulator's other wire formats, read raw: Anthropic Messages, Gemini generateContent / streamGenerateContent
/// and OpenAI Responses, streaming and not, with reasoning, tool calls, cache figures, errors, keys and client closes.
/// </summary>
public sealed class SimulatorWireFormatsTests : IAsyncLifetime
{
    private SimulatorServer sim = null!;
    private readonly HttpClient client = new();

    public async Task InitializeAsync() => sim = await SimulatorServer.StartAsync();

    public async Task DisposeAsync()
    {
        client.Dispose();
        await sim.DisposeAsync();
    }

    private static readonly SimulatedUsage Usage = new(1000, 30, CachedTokens: 600, CacheCreationTokens: 300, ReasoningTokens: 10);

    private static SimulatedReply Thinking() =>
        SimulatedReply.ToolCalls(("schema", """{"keys":["posts"]}""")).WithReasoning("Let me look.") with { Content = "Looking.", Usage = Usage };

    private async Task<HttpResponseMessage> PostAsync(string path, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sim.Origin, path)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>Each SSE event as (its <c>event:</c> name or null, its data).</summary>
    private static async Task<List<(string? Name, JsonElement Data)>> EventsAsync(HttpResponseMessage response)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<(string?, JsonElement)>();
        string? name = null;
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((name, JsonDocument.Parse(line[6..]).RootElement));
                name = null;
            }
        }
        return events;
    }

    private static string Concat(IEnumerable<(string? Name, JsonElement Data)> events, Func<JsonElement, string?> piece) =>
        string.Concat(events.Select(e => piece(e.Data)).Where(p => p is not null));

    [Fact]
    public async Task Anthropic_streams_thinking_text_and_tool_use_blocks_with_cache_usage()
    {
        sim.Enqueue(Thinking());
        using var response = await PostAsync("/v1/messages", """{"model":"claude-sonnet-4-6","stream":true,"messages":[{"role":"user","content":"Hi"}]}""");
        var events = await EventsAsync(response);

        Assert.Equal(["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop",
            "content_block_start", "content_block_delta", "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta",
            "content_block_stop", "message_delta", "message_stop"], events.Select(e => e.Name));
        Assert.All(events, e => Assert.Equal(e.Name, e.Data.GetProperty("type").GetString()));
        var usage = events[0].Data.GetProperty("message").GetProperty("usage");
        Assert.Equal((100, 300, 600), (usage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("cache_creation_input_tokens").GetInt32(),
            usage.GetProperty("cache_read_input_tokens").GetInt32()));
        string? Delta(JsonElement d, string type, string field) => d.TryGetProperty("delta", out var x) && x.TryGetProperty("type", out var t) && t.GetString() == type ? x.GetProperty(field).GetString() : null;
        Assert.Equal("Let me look.", Concat(events, d => Delta(d, "thinking_delta", "thinking")));
        Assert.StartsWith("sig_", Concat(events, d => Delta(d, "signature_delta", "signature")));
        Assert.Equal("Looking.", Concat(events, d => Delta(d, "text_delta", "text")));
        Assert.Equal("""{"keys":["posts"]}""", Concat(events, d => Delta(d, "input_json_delta", "partial_json")));
        var toolUse = events[10].Data.GetProperty("content_block");
        Assert.Equal(("tool_use", "schema"), (toolUse.GetProperty("type").GetString(), toolUse.GetProperty("name").GetString()));
        Assert.StartsWith("toolu_", toolUse.GetProperty("id").GetString());
        var end = events[^2].Data;
        Assert.Equal("tool_use", end.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(30, end.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task Anthropic_without_streaming_answers_one_message()
    {
        sim.Enqueue(Thinking());
        using var response = await PostAsync("/v1/messages", """{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"Hi"}]}""");
        var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(["thinking", "text", "tool_use"], message.GetProperty("content").EnumerateArray().Select(c => c.GetProperty("type").GetString()));
        Assert.Equal("posts", message.GetProperty("content")[2].GetProperty("input").GetProperty("keys")[0].GetString());
        Assert.Equal("tool_use", message.GetProperty("stop_reason").GetString());
        Assert.Equal(600, message.GetProperty("usage").GetProperty("cache_read_input_tokens").GetInt32());
    }

    [Fact]
    public async Task Gemini_streams_thoughts_text_and_a_signed_function_call_then_the_finish_and_usage_metadata()
    {
        sim.Enqueue(Thinking());
        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", """{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""");
        var events = await EventsAsync(response);

        Assert.All(events, e => Assert.Null(e.Name));
        var parts = events.SelectMany(e => e.Data.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts").EnumerateArray()).ToList();
        Assert.Equal("Let me look.", string.Concat(parts.Where(p => p.TryGetProperty("thought", out _)).Select(p => p.GetProperty("text").GetString())));
        Assert.Equal("Looking.", string.Concat(parts.Where(p => !p.TryGetProperty("thought", out _) && p.TryGetProperty("text", out _)).Select(p => p.GetProperty("text").GetString())));
        var call = Assert.Single(parts, p => p.TryGetProperty("functionCall", out _));
        Assert.Equal("posts", call.GetProperty("functionCall").GetProperty("args").GetProperty("keys")[0].GetString());
        Assert.StartsWith("sig_", call.GetProperty("thoughtSignature").GetString());
        var last = events[^1].Data;
        Assert.Equal("STOP", last.GetProperty("candidates")[0].GetProperty("finishReason").GetString());
        var usage = last.GetProperty("usageMetadata");
        Assert.Equal((1000, 20, 600, 10), (usage.GetProperty("promptTokenCount").GetInt32(), usage.GetProperty("candidatesTokenCount").GetInt32(),
            usage.GetProperty("cachedContentTokenCount").GetInt32(), usage.GetProperty("thoughtsTokenCount").GetInt32()));
    }

    [Fact]
    public async Task Gemini_without_streaming_answers_one_candidate()
    {
        sim.Enqueue(SimulatedReply.Text("Plain answer.") with { FinishReason = "MAX_TOKENS" });
        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[]}""");
        var candidate = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("candidates")[0];
        Assert.Equal("Plain answer.", candidate.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal("MAX_TOKENS", candidate.GetProperty("finishReason").GetString());
    }

    [Fact]
    public async Task Responses_stream_items_with_reasoning_summary_output_text_and_a_function_call_then_completed()
    {
        sim.Enqueue(Thinking());
        using var response = await PostAsync("/v1/responses", """{"model":"gpt-5.4-mini","stream":true,"store":false,"input":[{"role":"user","content":"Hi"}]}""");
        var events = await EventsAsync(response);

        Assert.Equal(["response.created", "response.in_progress"], events.Take(2).Select(e => e.Name));
        Assert.Equal("response.completed", events[^1].Name);
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        string? Of(JsonElement d, string type) => d.GetProperty("type").GetString() == type ? d.GetProperty("delta").GetString() : null;
        Assert.Equal("Let me look.", Concat(events, d => Of(d, "response.reasoning_summary_text.delta")));
        Assert.Equal("Looking.", Concat(events, d => Of(d, "response.output_text.delta")));
        Assert.Equal("""{"keys":["posts"]}""", Concat(events, d => Of(d, "response.function_call_arguments.delta")));
        var completed = events[^1].Data.GetProperty("response");
        var output = completed.GetProperty("output").EnumerateArray().ToList();
        Assert.Equal(["reasoning", "message", "function_call"], output.Select(o => o.GetProperty("type").GetString()));
        Assert.StartsWith("enc_", output[0].GetProperty("encrypted_content").GetString());
        Assert.StartsWith("call_", output[2].GetProperty("call_id").GetString());
        var usage = completed.GetProperty("usage");
        Assert.Equal((1000, 600, 30, 10), (usage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32(),
            usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32()));
    }

    [Fact]
    public async Task Responses_without_streaming_answer_one_response()
    {
        sim.Enqueue(SimulatedReply.Text("Plain answer."));
        using var response = await PostAsync("/v1/responses", """{"model":"gpt-5.4-mini","input":"Hi"}""");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("completed", body.GetProperty("status").GetString());
        Assert.Equal("Plain answer.", body.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("/v1/messages", "x-api-key", "K1", true)]
    [InlineData("/v1/messages", "Authorization", "Bearer K1", false)]
    [InlineData("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "x-goog-api-key", "K1", true)]
    [InlineData("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "Authorization", "Bearer K1", false)]
    [InlineData("/v1/responses", "Authorization", "Bearer K1", true)]
    [InlineData("/v1/responses", "x-api-key", "K1", false)]
    public async Task A_required_key_is_only_accepted_in_the_formats_own_header(string path, string header, string value, bool accepted)
    {
        sim.RequiredApiKey = "K1";
        using var response = await PostAsync(path, """{"model":"m","stream":true,"messages":[],"contents":[],"input":[]}""", (header, value));
        Assert.Equal(accepted ? HttpStatusCode.OK : HttpStatusCode.Unauthorized, response.StatusCode);
        await response.Content.ReadAsStringAsync();
    }

    [Theory]
    [InlineData("/v1/messages", "rate_limit_error")]
    [InlineData("/v1beta/models/gemini-2.5-flash:generateContent", "RESOURCE_EXHAUSTED")]
    [InlineData("/v1/responses", "requests")]
    public async Task An_error_answers_in_the_formats_own_shape_with_its_retry_after(string path, string kind)
    {
        sim.Enqueue(SimulatedReply.Error(429, "slow down") with { RetryAfter = TimeSpan.FromSeconds(3) });
        using var response = await PostAsync(path, """{"model":"m","messages":[],"contents":[],"input":[]}""");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("slow down", error.GetProperty("message").GetString());
        Assert.Equal(kind, (error.TryGetProperty("status", out var status) ? status : error.GetProperty("type")).GetString());
    }

    [Theory]
    [InlineData("/v1/messages", "error")]
    [InlineData("/v1/responses", "response.failed")]
    [InlineData("/v1beta/models/m:streamGenerateContent?alt=sse", null)]
    public async Task A_stream_error_ends_the_stream_with_the_formats_error_event(string path, string? name)
    {
        sim.Enqueue(SimulatedReply.ErrorMidStream(afterChunks: 1, "overloaded", "one two three"));
        using var response = await PostAsync(path, """{"model":"m","stream":true,"messages":[],"contents":[],"input":[]}""");
        var events = await EventsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(name, events[^1].Name);
        Assert.Contains("overloaded", events[^1].Data.GetRawText());
        Assert.DoesNotContain(events, e => e.Data.GetRawText().Contains("two", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_records_whether_the_client_closed_it_before_the_reply_ended()
    {
        sim.Enqueue(SimulatedReply.Text("short"), SimulatedReply.Text(string.Join(' ', Enumerable.Repeat("slow", 100))).WithPacing(Pacing.FromMilliseconds(0, 50)),
            SimulatedReply.HangUp(afterChunks: 1, text: "cut off here"));
        using (var done = await PostAsync("/v1/messages", """{"model":"m","stream":true,"messages":[]}"""))
            await done.Content.ReadAsStringAsync();
        using (var stopped = await PostAsync("/v1/messages", """{"model":"m","stream":true,"messages":[]}"""))
        {
            using var body = await stopped.Content.ReadAsStreamAsync();
            Assert.True(await body.ReadAsync(new byte[16]) > 0);
        }
        using (var hungUp = await PostAsync("/v1/messages", """{"model":"m","stream":true,"messages":[]}"""))
            await Assert.ThrowsAnyAsync<Exception>(() => hungUp.Content.ReadAsStringAsync());

        var requests = await sim.WaitForRequestsAsync(3);
        Assert.False(await requests[0].ClosedByClient.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await requests[1].ClosedByClient.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(await requests[2].ClosedByClient.WaitAsync(TimeSpan.FromSeconds(20)));
    }
}
