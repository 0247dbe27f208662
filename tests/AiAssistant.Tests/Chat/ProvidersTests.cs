using System.Text;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts.Settings;
using AiAssistant.ProviderSimulator;
using AiAssistant.Services.Chat.Chat;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AiAssistant.Tests.Chat;

/// <summary>
/// Every built-in provider as a settings version builds it (<see cref="ProviderSnapshot"/>), pointed at the provider
/// simulator by its base URL variable (<c>AI_OPENAI_BASE_URL</c>, …), through whole chat turns.
/// </summary>
public sealed class ProvidersTests : IAsyncLifetime
{
    private const string Key = "sk-prov-0123456789abcdef";
    private SimulatorServer sim = null!;
    private ServiceProvider services = null!;

    /// <summary>Retries as in production, only with short waits (the provider's Retry-After still counts).</summary>
    internal static readonly IConfiguration FastRetries = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Providers:RetryDelay"] = "00:00:00.010",
        ["Providers:RetryWithin"] = "00:00:05",
    }).Build();

    public async Task InitializeAsync()
    {
        sim = await SimulatorServer.StartAsync();
        services = new ServiceCollection().AddProviderChatClients(FastRetries).BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await sim.DisposeAsync();
    }

    private IConfiguration Configuration(string? baseUrl = null) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["AI_OPENAI_BASE_URL"] = baseUrl ?? sim.BaseUrl,
        ["AI_ANTHROPIC_BASE_URL"] = baseUrl ?? sim.BaseUrl,
        ["AI_GOOGLE_BASE_URL"] = baseUrl ?? $"http://127.0.0.1:{sim.Port}/v1beta",
    }).Build();

    private ProviderSnapshot Snapshot(string type, string model, bool reasoning = false, IConfiguration? configuration = null)
    {
        var config = new AiConfig { Version = 1 };
        config.Providers.Add(new ProviderConfig
        {
            Type = type, Id = type, Name = type, ApiKey = Key,
            Models = { new ProviderModel { Id = model, Name = model, Reasoning = reasoning, Output = 64000 } },
        });
        return new ProviderSnapshot(config, services.GetRequiredService<ProviderChatClients>(), configuration ?? Configuration());
    }

    /// <summary>
    /// One turn as ChatApi runs it: the request shaped for the provider (<see cref="ProviderRequests.Shape"/>), then
    /// the tool loop. <c>ask_user</c> is a client tool (it ends the turn); the server tool <c>schema</c> answers
    /// <see cref="SchemaTool.Output"/>.
    /// </summary>
    private static async Task<EndToEnd.ChatStream> TurnAsync(ProviderSnapshot snapshot, string provider, string model,
        string contextBlock = "", CancellationToken ct = default, List<ChatMessage>? history = null)
    {
        var output = new MemoryStream();
        var stream = new UiMessageStreamWriter(PipeWriter.Create(output));
        var turn = new ChatTurn(new ToolExecutor(new SchemaTool(), NullLogger<ToolExecutor>.Instance), NullLogger<ChatTurn>.Instance);
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"question":{"type":"string"}}}""");
        var options = new ChatOptions
        {
            ModelId = model,
            Tools = [AIFunctionFactory.CreateDeclaration("ask_user", "Asks the user", schema.RootElement.Clone()),
                AIFunctionFactory.CreateDeclaration("schema", "Reads the schema", schema.RootElement.Clone())],
        };
        var messages = history ?? [new(ChatRole.User, "Hello")];
        var configured = snapshot.Providers[provider];
        ProviderRequests.Shape(configured, model, messages, options, "Be brief.", contextBlock);
        await turn.RunAsync(configured.Client!, options, new Conversation(messages, []), new(), new AiAssistant.Contracts.Tools.ToolScope(),
            new HashSet<string> { "ask_user" }, stream, new TurnUsage(), ct);
        return EndToEnd.ChatStream.Parse(Encoding.UTF8.GetString(output.ToArray()), null);
    }

    [Fact]
    public void Base_urls_are_the_providers_own_unless_a_variable_overrides_them()
    {
        var none = new ConfigurationBuilder().Build();
        Assert.Equal("https://api.openai.com/v1", ProviderTypes.BaseUrl("openai", none).ToString());
        Assert.Equal("https://api.anthropic.com/v1", ProviderTypes.BaseUrl("anthropic", none).ToString());
        Assert.Equal("https://generativelanguage.googleapis.com/v1beta", ProviderTypes.BaseUrl("google", none).ToString());
        Assert.Equal("http://proxy.internal/v1", ProviderTypes.BaseUrl("anthropic", Configuration("http://proxy.internal/v1")).ToString());
    }

    [Fact]
    public async Task Openai_reaches_the_base_url_of_AI_OPENAI_BASE_URL()
    {
        sim.Enqueue(SimulatedReply.Text("Hello from the proxy."));
        using var snapshot = Snapshot("openai", "gpt-4o-mini");
        var chunks = await TurnAsync(snapshot, "openai", "gpt-4o-mini");

        Assert.Equal("Hello from the proxy.", chunks.Text);
        var request = Assert.Single(sim.Requests);
        Assert.StartsWith("/v1/", request.Path);
        Assert.Equal($"Bearer {Key}", request.Headers["Authorization"]);
    }

    /// <summary>The model each provider is tested with (a reasoning model of the catalog).</summary>
    private static string ModelOf(string provider) => provider switch
    {
        "anthropic" => "claude-sonnet-4-6",
        "google" => "gemini-2.5-flash",
        _ => "gpt-5.4-mini",
    };

    /// <summary>The provider's own auth header and value; no other header may carry the key.</summary>
    private static (string Header, string Value) AuthOf(string provider) => provider switch
    {
        "anthropic" => ("x-api-key", Key),
        "google" => ("x-goog-api-key", Key),
        _ => ("Authorization", "Bearer " + Key),
    };

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    public async Task A_plain_turn_streams_text_finish_and_the_providers_usage_with_its_own_auth_header_only(string provider)
    {
        sim.Enqueue(SimulatedReply.Text("Hello there.") with { Usage = new SimulatedUsage(1000, 20, CachedTokens: 600, CacheCreationTokens: 300) });
        using var snapshot = Snapshot(provider, ModelOf(provider));
        var chunks = await TurnAsync(snapshot, provider, ModelOf(provider));

        Assert.Equal(["start", "start-step", "text-start", "text-delta", "text-delta", "text-end", "finish-step", "finish", "data-usage"], chunks.Types);
        Assert.Equal("Hello there.", chunks.Text);
        Assert.Equal("stop", chunks.Single("finish")["finishReason"]!.GetValue<string>());
        var usage = chunks.Single("data-usage")["data"]!;
        Assert.Equal((1000, 20, 1020, 600), (usage["inputTokens"]!.GetValue<int>(), usage["outputTokens"]!.GetValue<int>(),
            usage["totalTokens"]!.GetValue<int>(), usage["cacheReadTokens"]!.GetValue<int>()));
        Assert.Equal(provider == "anthropic" ? 300 : null, usage["cacheCreationTokens"]?.GetValue<int>());

        var request = Assert.Single(sim.Requests);
        var (header, value) = AuthOf(provider);
        Assert.Equal(value, request.Headers[header]);
        Assert.DoesNotContain(request.Headers, h => h.Key != header && h.Value.Contains(Key[8..], StringComparison.Ordinal));
        Assert.DoesNotContain(Key[8..], request.Path + request.QueryString);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    public async Task A_tool_round_trip_streams_reasoning_and_sends_the_result_and_the_reasoning_back(string provider)
    {
        sim.Enqueue(SimulatedReply.ToolCalls(("schema", """{"keys":["posts"]}""")).WithReasoning("I should look at the schema."),
            SimulatedReply.Text("All done."));
        using var snapshot = Snapshot(provider, ModelOf(provider), reasoning: true);
        var chunks = await TurnAsync(snapshot, provider, ModelOf(provider));

        Assert.Equal(["start", "start-step", "reasoning-start", "reasoning-delta", "reasoning-delta", "reasoning-delta", "reasoning-delta",
            "reasoning-delta", "reasoning-delta", "reasoning-end", "tool-input-start", "tool-input-delta", "tool-input-available", "tool-output-available",
            "finish-step", "start-step", "text-start", "text-delta", "text-delta", "text-end", "finish-step", "finish", "data-usage"], chunks.Types);
        Assert.Equal("I should look at the schema.", string.Concat(chunks.Chunks.Where(c => c["type"]!.GetValue<string>() == "reasoning-delta")
            .Select(c => c["delta"]!.GetValue<string>())));
        Assert.Equal("All done.", chunks.Text);
        var callId = chunks.Single("tool-input-start")["toolCallId"]!.GetValue<string>();

        Assert.Equal(2, sim.Requests.Count);
        var second = JsonNode.Parse(sim.Requests[1].Body)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(SchemaTool.Output), chunks.Single("tool-output-available")["output"]));
        Assert.Equal("""{"keys":["posts"]}""", chunks.Single("tool-input-delta")["inputTextDelta"]!.GetValue<string>());
        switch (provider)
        {
            case "anthropic":
                Assert.Equal("adaptive", JsonNode.Parse(sim.Requests[0].Body)!["thinking"]!["type"]!.GetValue<string>());
                var assistant = second["messages"]!.AsArray().Single(m => m!["role"]!.GetValue<string>() == "assistant")!["content"]!.AsArray();
                Assert.Equal(("thinking", "I should look at the schema."), (assistant[0]!["type"]!.GetValue<string>(), assistant[0]!["thinking"]!.GetValue<string>()));
                Assert.StartsWith("sig_", assistant[0]!["signature"]!.GetValue<string>());
                Assert.Equal(("tool_use", callId), (assistant[1]!["type"]!.GetValue<string>(), assistant[1]!["id"]!.GetValue<string>()));
                var result = second["messages"]!.AsArray().Last()!["content"]![0]!;
                Assert.Equal(callId, result["tool_use_id"]!.GetValue<string>());
                Assert.Equal(SchemaTool.Output, result["content"]!.GetValue<string>());
                break;
            case "openai":
                var request = JsonNode.Parse(sim.Requests[0].Body)!;
                Assert.Equal("/v1/responses", sim.Requests[0].Path);
                Assert.False(request["store"]!.GetValue<bool>());
                Assert.Equal("auto", request["reasoning"]!["summary"]!.GetValue<string>());
                Assert.Equal(["reasoning.encrypted_content"], request["include"]!.AsArray().Select(i => i!.GetValue<string>()));
                // stateless: the whole input again, the encrypted reasoning and the call before their result
                Assert.False(second["store"]!.GetValue<bool>());
                Assert.Null(second["previous_response_id"]);
                var input = second["input"]!.AsArray();
                Assert.Equal("Hello", input[0]!["content"] is JsonArray c ? c[0]!["text"]!.GetValue<string>() : input[0]!["content"]!.GetValue<string>());
                var reasoning = input.Single(i => i!["type"]?.GetValue<string>() == "reasoning")!;
                Assert.Equal(ResponsesEncrypted("I should look at the schema."), reasoning["encrypted_content"]!.GetValue<string>());
                var sentCall = input.Single(i => i!["type"]?.GetValue<string>() == "function_call")!;
                Assert.Equal((callId, "schema"), (sentCall["call_id"]!.GetValue<string>(), sentCall["name"]!.GetValue<string>()));
                var output = input.Last()!;
                Assert.Equal(("function_call_output", callId), (output["type"]!.GetValue<string>(), output["call_id"]!.GetValue<string>()));
                Assert.Equal(SchemaTool.Output, output["output"]!.GetValue<string>());
                break;
            case "google":
                Assert.StartsWith("/v1beta/models/gemini-2.5-flash:streamGenerateContent", sim.Requests[0].Path);
                Assert.Equal("?alt=sse", sim.Requests[0].QueryString);
                var first = JsonNode.Parse(sim.Requests[0].Body)!;
                Assert.True(first["generationConfig"]!["thinkingConfig"]!["includeThoughts"]!.GetValue<bool>());
                Assert.Equal("Be brief.", first["systemInstruction"]!["parts"]![0]!["text"]!.GetValue<string>());
                Assert.Equal("schema", first["tools"]![0]!["functionDeclarations"]![1]!["name"]!.GetValue<string>());
                var contents = second["contents"]!.AsArray();
                var model = contents.Single(c => c!["role"]!.GetValue<string>() == "model")!["parts"]!.AsArray();
                var call = Assert.Single(model)!;
                Assert.Equal("schema", call["functionCall"]!["name"]!.GetValue<string>());
                Assert.StartsWith("sig_", call["thoughtSignature"]!.GetValue<string>());
                var answer = contents.Last()!["parts"]![0]!["functionResponse"]!;
                Assert.Equal("schema", answer["name"]!.GetValue<string>());
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(SchemaTool.Output), answer["response"]!["content"]));
                Assert.Equal("""{"keys":["posts"]}""", call["functionCall"]!["args"]!.ToJsonString());
                break;
        }
    }

    [Fact]
    public async Task Anthropic_gets_cache_breakpoints_on_the_system_prompt_and_the_last_message_and_the_context_after_them()
    {
        using var snapshot = Snapshot("anthropic", "claude-haiku-4-5");
        await TurnAsync(snapshot, "anthropic", "claude-haiku-4-5", "\n<user_context>\n## Current Date\n2026-12-02\n</user_context>");

        var body = JsonNode.Parse(Assert.Single(sim.Requests).Body)!;
        var system = Assert.Single(body["system"]!.AsArray())!;
        Assert.Equal("Be brief.", system["text"]!.GetValue<string>());
        Assert.Equal("ephemeral", system["cache_control"]!["type"]!.GetValue<string>());
        var messages = body["messages"]!.AsArray();
        Assert.Equal(2, messages.Count);
        Assert.Equal(("Hello", "ephemeral"), (messages[0]!["content"]![0]!["text"]!.GetValue<string>(),
            messages[0]!["content"]![0]!["cache_control"]!["type"]!.GetValue<string>()));
        Assert.Equal("user", messages[1]!["role"]!.GetValue<string>());
        Assert.StartsWith("<user_context>", messages[1]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Null(messages[1]!["content"]![0]!["cache_control"]);
        // no thinking for a model the catalog does not mark as reasoning, and the catalog's output limit
        Assert.Null(body["thinking"]);
        Assert.Equal(64000, body["max_tokens"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    public async Task A_stream_that_breaks_off_after_the_first_byte_ends_in_an_error_chunk(string provider)
    {
        sim.Enqueue(SimulatedReply.HangUp(afterChunks: 2, text: "one two three four"));
        using var snapshot = Snapshot(provider, ModelOf(provider));
        var chunks = await TurnAsync(snapshot, provider, ModelOf(provider));

        Assert.Equal(["start", "start-step", "text-start", "text-delta", "text-delta", "error"], chunks.Types);
        Assert.True(chunks.Done);
        Assert.Single(sim.Requests);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    public async Task An_error_event_after_the_first_byte_ends_in_an_error_chunk_without_the_key(string provider)
    {
        sim.Enqueue(SimulatedReply.ErrorMidStream(afterChunks: 2, $"Overloaded, key {Key}", "one two three four"));
        using var snapshot = Snapshot(provider, ModelOf(provider));
        var chunks = await TurnAsync(snapshot, provider, ModelOf(provider));

        Assert.Equal(["start", "start-step", "text-start", "text-delta", "text-delta", "error"], chunks.Types);
        Assert.True(chunks.Done);
        var error = chunks.Single("error")["errorText"]!.GetValue<string>();
        Assert.Contains("Overloaded, key **********", error);
        Assert.DoesNotContain(Key, error);
        Assert.Single(sim.Requests);
    }

    [Theory]
    [InlineData("openai", 400)]
    [InlineData("anthropic", 401)]
    [InlineData("anthropic", 400)]
    [InlineData("google", 403)]
    public async Task A_providers_error_reaches_the_user_without_the_key(string provider, int status)
    {
        sim.Enqueue(SimulatedReply.Error(status, $"invalid x-api-key {Key}"));
        using var snapshot = Snapshot(provider, ModelOf(provider));
        var chunks = await TurnAsync(snapshot, provider, ModelOf(provider));

        Assert.Equal(["start", "start-step", "error"], chunks.Types);
        var error = chunks.Single("error")["errorText"]!.GetValue<string>();
        Assert.Equal($"{provider} answered {status}: invalid x-api-key **********", error);
    }

    [Theory]
    [InlineData("openai", 429, false)]
    [InlineData("anthropic", 529, true)]
    [InlineData("google", 503, false)]
    [InlineData("openai-compatible", 502, true)]
    public async Task A_refusal_before_the_answer_starts_is_retried_and_the_user_sees_one_clean_answer(string provider, int status, bool retryAfter)
    {
        sim.Enqueue(SimulatedReply.Error(status, "busy") with { RetryAfter = retryAfter ? TimeSpan.FromSeconds(1) : null },
            SimulatedReply.Text("Second time lucky."));
        using var snapshot = provider == "openai-compatible" ? Compatible() : Snapshot(provider, ModelOf(provider));
        var chunks = await TurnAsync(snapshot, provider, ModelOf(provider));

        Assert.Equal(["start", "start-step", "text-start", "text-delta", "text-delta", "text-delta", "text-end", "finish-step", "finish", "data-usage"], chunks.Types);
        Assert.Equal("Second time lucky.", chunks.Text);
        Assert.Equal(2, sim.Requests.Count);
        Assert.Equal(sim.Requests[0].Body, sim.Requests[1].Body);
    }

    [Fact]
    public async Task Retries_stop_after_the_configured_attempts_and_the_last_error_reaches_the_user()
    {
        for (var i = 0; i < 10; i++) sim.Enqueue(SimulatedReply.Error(500, "down"));
        using var snapshot = Snapshot("openai", "gpt-4o-mini");
        var chunks = await TurnAsync(snapshot, "openai", "gpt-4o-mini");

        Assert.Equal(["start", "start-step", "error"], chunks.Types);
        Assert.Equal("openai answered 500: down", chunks.Single("error")["errorText"]!.GetValue<string>());
        Assert.Equal(1 + new ProviderOptions().MaxRetries, sim.Requests.Count);
    }

    [Fact]
    public async Task A_retry_after_longer_than_the_retry_window_is_not_waited_for()
    {
        sim.Enqueue(SimulatedReply.Error(429, "come back in a minute") with { RetryAfter = TimeSpan.FromMinutes(1) });
        using var snapshot = Snapshot("anthropic", ModelOf("anthropic"));
        var chunks = await TurnAsync(snapshot, "anthropic", ModelOf("anthropic"));

        Assert.Equal("anthropic answered 429: come back in a minute", chunks.Single("error")["errorText"]!.GetValue<string>());
        Assert.Single(sim.Requests);
    }

    /// <summary>
    /// A finished answer gives its connection back: the tool round trip's second request, and the next turn, go out on
    /// the first one's connection (against a real provider, no new TLS handshake per request), while a stop still
    /// closes it (the test below).
    /// </summary>
    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    [InlineData("openai-compatible")]
    public async Task A_finished_answer_leaves_its_connection_open_for_the_next_request(string provider)
    {
        sim.Enqueue(SimulatedReply.ToolCalls(("schema", "{}")), SimulatedReply.Text("All done."), SimulatedReply.Text("Again."));
        using var snapshot = provider == "openai-compatible" ? Compatible() : Snapshot(provider, ModelOf(provider));
        Assert.Equal("All done.", (await TurnAsync(snapshot, provider, ModelOf(provider))).Text);
        Assert.Equal("Again.", (await TurnAsync(snapshot, provider, ModelOf(provider))).Text);

        var requests = sim.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.NotEqual("", r.ConnectionId));
        Assert.Equal([requests[0].ConnectionId], requests.Select(r => r.ConnectionId).Distinct());
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    [InlineData("openai-compatible")]
    public async Task Stopping_the_turn_closes_the_provider_request_at_once(string provider)
    {
        sim.Enqueue(SimulatedReply.Text(string.Join(' ', Enumerable.Repeat("word", 200))).WithPacing(Pacing.FromMilliseconds(0, 50)));
        using var snapshot = provider == "openai-compatible" ? Compatible() : Snapshot(provider, ModelOf(provider));
        using var stop = new CancellationTokenSource();
        var turn = TurnAsync(snapshot, provider, ModelOf(provider), ct: stop.Token);
        var request = (await sim.WaitForRequestsAsync(1))[0];
        stop.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => turn);
        Assert.True(await request.ClosedByClient.WaitAsync(TimeSpan.FromSeconds(10)), "the simulator did not see the connection close");
        Assert.Single(sim.Requests);
    }

    [Theory]
    [InlineData("openai", "Incorrect API key provided: sk-prov-************cdef.")]
    [InlineData("anthropic", "invalid x-api-key: prov-0123456789ab (truncated)")]
    [InlineData("google", "API key not valid: ...456789abcdef")]
    public async Task A_provider_that_echoes_part_of_the_key_has_it_masked(string provider, string message)
    {
        sim.Enqueue(SimulatedReply.Error(401, message));
        using var snapshot = Snapshot(provider, ModelOf(provider));
        var chunks = await TurnAsync(snapshot, provider, ModelOf(provider));

        var error = chunks.Single("error")["errorText"]!.GetValue<string>();
        Assert.Contains("**********", error);
        for (var i = 0; i + 4 <= Key.Length; i++) Assert.DoesNotContain(Key.Substring(i, 4), error);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    public async Task A_rejected_key_leaves_no_part_of_it_in_the_exception_or_any_span(string provider)
    {
        var spans = new List<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name is "AiAssistant" or "System.Net.Http" or "Experimental.Microsoft.Extensions.AI",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (spans) spans.Add(a); },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        sim.Enqueue(SimulatedReply.Error(401, $"Incorrect API key provided: {Key[..10]}...{Key[^4..]}"));
        using var snapshot = Snapshot(provider, ModelOf(provider));

        var e = await Assert.ThrowsAsync<ProviderException>(() => snapshot.Providers[provider].Client!.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Hello")], new ChatOptions { ModelId = ModelOf(provider) }));
        Assert.StartsWith($"{provider} answered 401: ", e.Message);
        Assert.Null(e.InnerException);
        List<System.Diagnostics.Activity> seen;
        lock (spans) seen = [.. spans];
        Assert.Contains(seen, a => a.Source.Name == "AiAssistant");
        var everything = e.ToString() + string.Join("\n", seen.SelectMany(a => a.TagObjects.Select(t => t.Value?.ToString())
            .Concat(a.Events.SelectMany(ev => ev.Tags.Select(t => t.Value?.ToString()))).Append(a.StatusDescription)));
        foreach (var part in new[] { Key[..10], Key[^4..], Key })
            Assert.DoesNotContain(part, everything);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    public async Task A_call_without_streaming_answers_the_text_and_the_usage(string provider)
    {
        sim.Enqueue(SimulatedReply.Text("Whole answer.").WithReasoning("Briefly.") with { Usage = new SimulatedUsage(300, 7, CachedTokens: 100) });
        using var snapshot = Snapshot(provider, ModelOf(provider));

        var response = await snapshot.Providers[provider].Client!.GetResponseAsync([new ChatMessage(ChatRole.User, "Hello")],
            new ChatOptions { ModelId = ModelOf(provider) });
        Assert.Equal("Whole answer.", response.Text);
        Assert.Equal((300L, 7L, 100L), (response.Usage!.InputTokenCount, response.Usage.OutputTokenCount, response.Usage.CachedInputTokenCount));
        Assert.Contains(response.Messages.SelectMany(m => m.Contents), c => c is TextReasoningContent { Text: "Briefly." });
    }

    private ProviderSnapshot Compatible()
    {
        var config = new AiConfig { Version = 1 };
        config.Providers.Add(new ProviderConfig { Type = "openai-compatible", Id = "openai-compatible", Name = "local", BaseUrl = sim.BaseUrl, ApiKey = Key });
        return new ProviderSnapshot(config, services.GetRequiredService<ProviderChatClients>(), Configuration());
    }

    /// <summary>
    /// The assistant's UI message as the AI SDK's client builds it from a turn's chunks: a step per <c>start-step</c>,
    /// reasoning with the <c>providerMetadata</c> of its end, text, and each call with its <c>callProviderMetadata</c> and
    /// the browser's <paramref name="output"/>.
    /// </summary>
    private static JsonObject AssistantMessage(EndToEnd.ChatStream chunks, JsonNode output)
    {
        var parts = new JsonArray();
        JsonObject? open = null;
        foreach (var chunk in chunks.Chunks)
        {
            switch (chunk["type"]!.GetValue<string>())
            {
                case "start-step": parts.Add(new JsonObject { ["type"] = "step-start" }); break;
                case "reasoning-start" or "text-start":
                    open = new JsonObject { ["type"] = chunk["type"]!.GetValue<string>()[..^"-start".Length], ["text"] = "" };
                    parts.Add(open);
                    break;
                case "reasoning-delta" or "text-delta": open!["text"] = open["text"]!.GetValue<string>() + chunk["delta"]!.GetValue<string>(); break;
                case "reasoning-end" when chunk["providerMetadata"] is { } metadata: open!["providerMetadata"] = metadata.DeepClone(); break;
                case "tool-input-available":
                    var part = new JsonObject
                    {
                        ["type"] = "tool-" + chunk["toolName"]!.GetValue<string>(), ["toolCallId"] = chunk["toolCallId"]!.GetValue<string>(),
                        ["state"] = "output-available", ["input"] = chunk["input"]!.DeepClone(), ["output"] = output.DeepClone(),
                    };
                    if (chunk["providerMetadata"] is { } callMetadata) part["callProviderMetadata"] = callMetadata.DeepClone();
                    parts.Add(part);
                    break;
            }
        }
        return new JsonObject { ["id"] = "a1", ["role"] = "assistant", ["parts"] = parts };
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("google")]
    public async Task After_a_browser_tool_the_next_request_carries_the_signed_reasoning_and_the_call_back(string provider)
    {
        sim.Enqueue(SimulatedReply.ToolCalls(("ask_user", """{"question":"Which one?"}""")).WithReasoning("The user must choose."),
            SimulatedReply.Text("Posts it is."));
        using var snapshot = Snapshot(provider, ModelOf(provider), reasoning: true);
        var first = await TurnAsync(snapshot, provider, ModelOf(provider));
        Assert.Equal("tool-calls", first.Single("finish")["finishReason"]!.GetValue<string>());

        // the browser answers the call and sends the whole conversation again
        var ui = new JsonArray(
            new JsonObject { ["id"] = "u1", ["role"] = "user", ["parts"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Hello" }) },
            AssistantMessage(first, new JsonObject { ["answer"] = "posts" }));
        using var document = JsonDocument.Parse(ui.ToJsonString());
        var second = await TurnAsync(snapshot, provider, ModelOf(provider), history: UiMessages.ToConversation(document.RootElement).Messages);
        Assert.Equal("Posts it is.", second.Text);

        var body = JsonNode.Parse(sim.Requests[1].Body)!;
        var callId = first.Single("tool-input-available")["toolCallId"]!.GetValue<string>();
        switch (provider)
        {
            case "openai":
                var input = body["input"]!.AsArray();
                Assert.Equal(["message", "reasoning", "function_call", "function_call_output"], input.Select(i => i!["type"]?.GetValue<string>() ?? "message"));
                Assert.Equal(ResponsesEncrypted("The user must choose."), input[1]!["encrypted_content"]!.GetValue<string>());
                Assert.Equal(callId, input[3]!["call_id"]!.GetValue<string>());
                break;
            case "anthropic":
                var assistant = body["messages"]!.AsArray().Single(m => m!["role"]!.GetValue<string>() == "assistant")!["content"]!.AsArray();
                Assert.Equal(["thinking", "tool_use"], assistant.Select(c => c!["type"]!.GetValue<string>()));
                Assert.Equal("The user must choose.", assistant[0]!["thinking"]!.GetValue<string>());
                Assert.StartsWith("sig_", assistant[0]!["signature"]!.GetValue<string>());
                break;
            case "google":
                var call = body["contents"]!.AsArray().Single(c => c!["role"]!.GetValue<string>() == "model")!["parts"]![0]!;
                Assert.Equal("ask_user", call["functionCall"]!["name"]!.GetValue<string>());
                Assert.Equal(first.Single("tool-input-available")["providerMetadata"]!["aiassistant"]!["thoughtSignature"]!.GetValue<string>(),
                    call["thoughtSignature"]!.GetValue<string>());
                Assert.StartsWith("sig_", call["thoughtSignature"]!.GetValue<string>());
                break;
        }
    }

    /// <summary>What the simulator hands out as encrypted reasoning for a reasoning text.</summary>
    private static string ResponsesEncrypted(string reasoning) => "enc_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(reasoning));

    [Fact]
    public async Task Openai_models_without_reasoning_get_no_reasoning_options_but_stay_stateless()
    {
        using var snapshot = Snapshot("openai", "gpt-4o-mini");
        await TurnAsync(snapshot, "openai", "gpt-4o-mini");
        var body = JsonNode.Parse(Assert.Single(sim.Requests).Body)!;
        Assert.False(body["store"]!.GetValue<bool>());
        Assert.Null(body["reasoning"]);
        Assert.Null(body["include"]);
        Assert.Equal("Be brief.", body["instructions"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_compatible_models_provider_options_and_headers_go_into_its_chat_completions_request()
    {
        var config = new AiConfig { Version = 1 };
        config.Providers.Add(new ProviderConfig
        {
            Type = "openai-compatible", Id = "openai-compatible", Name = "local", BaseUrl = sim.BaseUrl, ApiKey = Key,
            Headers = { new ProviderHeader { Name = "X-Tenant", Value = "acme" } },
            Models = { new ProviderModel { Id = "qwen3", Name = "Qwen 3", ProviderOptionsJson = """{"reasoning_effort":"high","chat_template_kwargs":{"enable_thinking":true}}""" } },
        });
        using var snapshot = new ProviderSnapshot(config, services.GetRequiredService<ProviderChatClients>(), Configuration());
        await TurnAsync(snapshot, "openai-compatible", "qwen3");

        var request = Assert.Single(sim.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("acme", request.Headers["X-Tenant"]);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("high", body["reasoning_effort"]!.GetValue<string>());
        Assert.True(body["chat_template_kwargs"]!["enable_thinking"]!.GetValue<bool>());
        Assert.Equal("qwen3", body["model"]!.GetValue<string>());
    }

    /// <summary>The Tools service as far as these turns need it: every call answers <see cref="Output"/>.</summary>
    private sealed class SchemaTool : AiAssistant.Contracts.Tools.Tools.ToolsClient
    {
        public const string Output = """{"ok":true,"result":{"collections":["posts"]}}""";

        public override global::Grpc.Core.AsyncUnaryCall<AiAssistant.Contracts.Tools.ExecuteToolReply> ExecuteToolAsync(
            AiAssistant.Contracts.Tools.ExecuteToolRequest request, global::Grpc.Core.CallOptions options) =>
            new(Task.FromResult(new AiAssistant.Contracts.Tools.ExecuteToolReply { OutputJson = Output }), Task.FromResult(new global::Grpc.Core.Metadata()),
                () => global::Grpc.Core.Status.DefaultSuccess, () => [], () => { });
    }
}
