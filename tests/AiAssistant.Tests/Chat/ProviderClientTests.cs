using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts.Tools;
using AiAssistant.ProviderSimulator;
using AiAssistant.Services.Chat.Chat;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AiAssistant.Tests.Chat;

/// <summary>
/// The provider clients (OpenAI SDK through Microsoft.Extensions.AI) and the chat turn against the provider simulator:
/// what is sent, what comes back, and how a failing provider reaches the stream.
/// </summary>
public sealed class ProviderClientTests : IAsyncLifetime
{
    private const string Key = "sk-test-0123456789abcdef";
    private static readonly ActivitySource Traces = new("ProviderClientTests");
    private SimulatorServer sim = null!;
    private ServiceProvider services = null!;

    private ProviderChatClients Clients => services.GetRequiredService<ProviderChatClients>();

    public async Task InitializeAsync()
    {
        sim = await SimulatorServer.StartAsync();
        services = new ServiceCollection().AddProviderChatClients(ProvidersTests.FastRetries).BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await sim.DisposeAsync();
    }

    private IChatClient Client() => Clients.Create(new Uri(sim.BaseUrl), Key, [], "simulator");

    private static ChatOptions Options(string model = "sim-model", params AITool[] tools) =>
        new() { ModelId = model, Instructions = "Be brief.", Tools = tools };

    private static List<ChatMessage> Hello() => [new(ChatRole.User, "Hello")];

    [Fact]
    public async Task A_streamed_answer_arrives_piece_by_piece_with_usage_for_the_requested_model()
    {
        sim.Enqueue(SimulatedReply.Text("Hello there, how are you?"));
        using var client = Client();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Hello(), Options("model-b"))) updates.Add(update);

        Assert.True(updates.Count(u => u.Text.Length > 0) > 1, "the text came in one piece");
        Assert.Equal("Hello there, how are you?", string.Concat(updates.Select(u => u.Text)));
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
        Assert.True(usage.Details.OutputTokenCount > 0);

        var request = Assert.Single(sim.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal($"Bearer {Key}", request.Headers["Authorization"]);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("model-b", body["model"]!.GetValue<string>());
        Assert.True(body["stream"]!.GetValue<bool>());
        Assert.True(body["stream_options"]!["include_usage"]!.GetValue<bool>());
        var messages = body["messages"]!.AsArray();
        Assert.Equal(("system", "Be brief."), (messages[0]!["role"]!.GetValue<string>(), Text(messages[0]!["content"]!)));
        Assert.Equal(("user", "Hello"), (messages[1]!["role"]!.GetValue<string>(), Text(messages[1]!["content"]!)));
    }

    [Fact]
    public async Task Custom_headers_are_sent_and_a_provider_without_a_key_gets_no_authorization()
    {
        // A base URL as people paste it for Ollama, with a trailing slash.
        using var client = Clients.Create(new Uri(sim.BaseUrl + "/"), "",
            [KeyValuePair.Create("X-Tenant", "acme"), KeyValuePair.Create("api-version", "2026-01")], "local");
        await client.GetResponseAsync(Hello(), Options());

        var request = Assert.Single(sim.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.False(request.Headers.ContainsKey("Authorization"), $"Authorization: {request.Headers.GetValueOrDefault("Authorization")}");
        Assert.Equal("acme", request.Headers["X-Tenant"]);
        Assert.Equal("2026-01", request.Headers["api-version"]);
    }

    [Fact]
    public async Task A_tool_call_comes_back_with_parsed_arguments_and_its_result_goes_to_the_model()
    {
        sim.Enqueue(SimulatedReply.ToolCalls(("schema", """{"keys":["posts","pages"]}""")), SimulatedReply.Text("Done."));
        using var client = Client();
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"keys":{"type":"array","items":{"type":"string"}}}}""");
        var options = Options(tools: AIFunctionFactory.CreateDeclaration("schema", "Reads the schema", schema.RootElement.Clone()));
        var messages = Hello();

        var first = await client.GetStreamingResponseAsync(messages, options).ToChatResponseAsync();
        var call = Assert.Single(first.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("schema", call.Name);
        Assert.StartsWith("call_", call.CallId);
        Assert.Equal("""{"keys":["posts","pages"]}""", ToolArguments.ToJson(call));

        messages.AddRange(first.Messages);
        messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, """{"data":["posts"]}""")]));
        Assert.Equal("Done.", (await client.GetStreamingResponseAsync(messages, options).ToChatResponseAsync()).Text);

        var tool = JsonNode.Parse(sim.Requests[0].Body)!["tools"]!.AsArray().Single()!;
        Assert.Equal("function", tool["type"]!.GetValue<string>());
        Assert.Equal("schema", tool["function"]!["name"]!.GetValue<string>());
        Assert.Equal("array", tool["function"]!["parameters"]!["properties"]!["keys"]!["type"]!.GetValue<string>());

        var sent = JsonNode.Parse(sim.Requests[1].Body)!["messages"]!.AsArray();
        var assistant = sent.Single(m => m!["role"]!.GetValue<string>() == "assistant")!;
        var sentCall = assistant["tool_calls"]!.AsArray().Single()!;
        Assert.Equal(call.CallId, sentCall["id"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"keys":["posts","pages"]}"""),
            JsonNode.Parse(sentCall["function"]!["arguments"]!.GetValue<string>())));
        var result = sent.Single(m => m!["role"]!.GetValue<string>() == "tool")!;
        Assert.Equal(call.CallId, result["tool_call_id"]!.GetValue<string>());
        Assert.Equal("""{"data":["posts"]}""", Text(result["content"]!));
    }

    [Theory]
    [InlineData(401, "Incorrect API key provided: " + Key)]
    [InlineData(400, "Invalid model for " + Key)]
    [InlineData(404, "The model does not exist")]
    public async Task An_error_status_is_a_provider_exception_with_the_message_and_without_the_key_and_no_retry(int status, string message)
    {
        sim.Enqueue(SimulatedReply.Error(status, message));
        using var client = Client();

        var e = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Hello(), Options())) { }
        });

        Assert.StartsWith($"simulator answered {status}: ", e.Message);
        Assert.Contains(message.Replace(Key, "**********"), e.Message);
        Assert.DoesNotContain(Key, e.ToString());
        Assert.Null(e.InnerException);
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task A_call_is_one_trace_chat_span_over_http_span_and_a_failure_leaves_no_key_in_it()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "AiAssistant" or "System.Net.Http" or "ProviderClientTests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (spans) spans.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);
        using (var traced = Traces.StartActivity("turn"))
        {
            sim.Enqueue(SimulatedReply.Error(401, "Incorrect API key provided: " + Key));
            using var client = Client();
            await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync(Hello(), Options()));

            List<Activity> ours;
            lock (spans) ours = spans.Where(a => a.TraceId == traced!.TraceId).ToList();
            var chat = Assert.Single(ours, a => a.Source.Name == "AiAssistant");
            Assert.Equal("chat sim-model", chat.DisplayName);
            Assert.Equal(traced!.SpanId, chat.ParentSpanId);
            Assert.Equal(ActivityStatusCode.Error, chat.Status);
            var http = Assert.Single(ours, a => a.Source.Name == "System.Net.Http");
            Assert.Equal(chat.SpanId, http.ParentSpanId);
            foreach (var span in ours)
            {
                Assert.DoesNotContain(Key, span.StatusDescription ?? "");
                Assert.DoesNotContain(span.TagObjects, t => t.Value?.ToString()?.Contains(Key) == true);
                Assert.DoesNotContain(span.Events, e => e.Tags.Any(t => t.Value?.ToString()?.Contains(Key) == true));
            }
        }
    }

    [Fact]
    public async Task An_unreachable_provider_is_a_provider_exception_naming_where()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = Clients.Create(new Uri($"http://127.0.0.1:{port}/v1"), Key, [], "nowhere");

        var e = await Assert.ThrowsAsync<ProviderException>(() => client.GetResponseAsync(Hello(), Options()));
        Assert.Equal($"Cannot connect to nowhere at 127.0.0.1:{port}: ConnectionError.", e.Message);
    }

    [Fact]
    public async Task A_stream_that_breaks_off_is_a_provider_exception()
    {
        sim.Enqueue(SimulatedReply.HangUp(afterChunks: 2, text: "one two three four five six"));
        using var client = Client();

        var e = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Hello(), Options())) { }
        });
        Assert.StartsWith("The connection to simulator at ", e.Message);
    }

    [Fact]
    public async Task A_turn_streams_text_then_finish_with_its_reason_then_usage_in_the_reference_order()
    {
        sim.Enqueue(SimulatedReply.Text("Hi there.") with { Usage = new SimulatedUsage(1409, 47, CachedTokens: 1024) });
        var chunks = await TurnAsync(Client(), []);

        Assert.Equal(["start", "start-step", "text-start", "text-delta", "text-delta", "text-end", "finish-step", "finish", "data-usage"],
            chunks.Types);
        Assert.True(chunks.Done);
        Assert.Equal("Hi there.", chunks.Text);
        Assert.Equal("stop", chunks.Single("finish")["finishReason"]!.GetValue<string>());
        // the provider's own figures, in the reference's frame (no cache creation figure from OpenAI)
        Assert.Equal("""{"inputTokens":1409,"outputTokens":47,"totalTokens":1456,"cacheReadTokens":1024}""",
            chunks.Single("data-usage")["data"]!.ToJsonString());
    }

    [Theory]
    [InlineData("length", "length")]
    [InlineData("content_filter", "content-filter")]
    public async Task The_finish_chunk_names_the_reason_as_the_ai_sdk_does(string provider, string expected)
    {
        sim.Enqueue(SimulatedReply.Text("Cut") with { FinishReason = provider });
        var chunks = await TurnAsync(Client(), []);
        Assert.Equal(expected, chunks.Single("finish")["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Usage_of_every_step_adds_up()
    {
        sim.Enqueue(SimulatedReply.ToolCalls(("schema", "{\"keys\": [")) with { Usage = new SimulatedUsage(100, 10, CachedTokens: 50) },
            SimulatedReply.Text("Sorry.") with { Usage = new SimulatedUsage(200, 5, CachedTokens: 100) });
        var chunks = await TurnAsync(Client(), [], "schema");
        Assert.Equal("""{"inputTokens":300,"outputTokens":15,"totalTokens":315,"cacheReadTokens":150}""",
            chunks.Single("data-usage")["data"]!.ToJsonString());
        Assert.Equal("stop", chunks.Single("finish")["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_client_tool_call_ends_the_turn_with_its_input_for_the_browser()
    {
        sim.Enqueue(SimulatedReply.ToolCalls(("ask_user", """{"question": "Which one?"}""")));
        var chunks = await TurnAsync(Client(), ["ask_user"]);

        Assert.Equal(["start", "start-step", "tool-input-start", "tool-input-delta", "tool-input-available", "finish-step", "finish", "data-usage"],
            chunks.Types);
        Assert.Equal("tool-calls", chunks.Single("finish")["finishReason"]!.GetValue<string>());
        var available = chunks.Single("tool-input-available");
        Assert.Equal("ask_user", available["toolName"]!.GetValue<string>());
        Assert.Equal("Which one?", available["input"]!["question"]!.GetValue<string>());
        Assert.Equal("""{"question":"Which one?"}""", chunks.Single("tool-input-delta")["inputTextDelta"]!.GetValue<string>());
        Assert.Equal(available["toolCallId"]!.GetValue<string>(), chunks.Single("tool-input-start")["toolCallId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tool_arguments_that_are_not_json_go_back_to_the_model_as_an_error_without_running_the_tool()
    {
        sim.Enqueue(SimulatedReply.ToolCalls(("schema", "{\"keys\": [")), SimulatedReply.Text("Sorry."));
        // "schema" is a server tool here: the turn would call the Tools service (absent in this test) if it ran it.
        var chunks = await TurnAsync(Client(), [], "schema");

        Assert.Equal(["start", "start-step", "tool-input-start", "tool-input-delta", "tool-input-available", "tool-output-available",
            "finish-step", "start-step", "text-start", "text-delta", "text-end", "finish-step", "finish", "data-usage"], chunks.Types);
        Assert.Equal("INVALID_PAYLOAD", chunks.Single("tool-output-available")["output"]!["error"]!["code"]!.GetValue<string>());
        Assert.Equal("Sorry.", chunks.Text);
        Assert.Contains("INVALID_PAYLOAD", sim.Requests[1].Body);
    }

    [Fact]
    public async Task A_provider_error_ends_the_turn_with_an_error_chunk_without_the_key()
    {
        sim.Enqueue(SimulatedReply.Error(401, "Incorrect API key provided: " + Key));
        var chunks = await TurnAsync(Client(), []);

        Assert.Equal(["start", "start-step", "error"], chunks.Types);
        Assert.True(chunks.Done);
        var error = chunks.Single("error")["errorText"]!.GetValue<string>();
        Assert.Equal("simulator answered 401: Incorrect API key provided: **********", error);
    }

    private static async Task<EndToEnd.ChatStream> TurnAsync(IChatClient client, string[] clientTools, params string[] serverTools)
    {
        using var _ = client;
        using var schema = JsonDocument.Parse("""{"type":"object"}""");
        var tools = clientTools.Concat(serverTools).Select(t => (AITool)AIFunctionFactory.CreateDeclaration(t, "", schema.RootElement.Clone())).ToArray();
        var output = new MemoryStream();
        var stream = new UiMessageStreamWriter(PipeWriter.Create(output));
        // No server tool runs in these turns, so the Tools service is never called.
        var turn = new ChatTurn(new ToolExecutor(null!, NullLogger<ToolExecutor>.Instance), NullLogger<ChatTurn>.Instance);
        await turn.RunAsync(client, Options(tools: tools), new Conversation(Hello(), []), new(), new AiAssistant.Contracts.Tools.ToolScope(),
            clientTools.ToHashSet(), stream, new TurnUsage(), CancellationToken.None);
        return EndToEnd.ChatStream.Parse(Encoding.UTF8.GetString(output.ToArray()), null);
    }

    /// <summary>A message's content: a string, or OpenAI's list of text parts.</summary>
    private static string Text(JsonNode content) => content is JsonArray parts
        ? string.Concat(parts.Select(p => p!["text"]!.GetValue<string>()))
        : content.GetValue<string>();
}
