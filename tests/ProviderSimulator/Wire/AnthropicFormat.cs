using System.Text.Json;

namespace AiAssistant.ProviderSimulator.Wire;

/// <summary>
/// Anthropic's Messages API: <c>message_start</c> (with the prompt's usage, cache figures apart), a
/// <c>content_block_start|delta|stop</c> per thinking block (with its signature), text block and <c>tool_use</c> block
/// (arguments as <c>input_json_delta</c>), <c>message_delta</c> (stop reason, output tokens), <c>message_stop</c>.
/// </summary>
internal sealed class AnthropicFormat : StreamFormat
{
    private readonly string id = "msg_" + NewToken();
    private int index = -1;

    public override string NewCallId() => "toolu_" + NewToken();

    /// <summary>Anthropic's <c>input_tokens</c> leaves out what was read from or written to the cache.</summary>
    private static void WriteUsage(Utf8JsonWriter json, SimulatedUsage usage, int outputTokens)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", Math.Max(0, usage.PromptTokens - usage.CachedTokens - usage.CacheCreationTokens));
        json.WriteNumber("cache_creation_input_tokens", usage.CacheCreationTokens);
        json.WriteNumber("cache_read_input_tokens", usage.CachedTokens);
        json.WriteNumber("output_tokens", outputTokens);
        json.WriteEndObject();
    }

    private static string StopReason(SimulatedReply reply) => reply.FinishReason ?? (reply.Calls.Count > 0 ? "tool_use" : "end_turn");

    private static string Signature(string reasoning) => "sig_" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(reasoning))[..Math.Min(16, reasoning.Length)];

    public override void Start(SimulatedUsage usage) => Event("message_start", json =>
    {
        json.WriteStartObject();
        json.WriteString("type", "message_start");
        json.WriteStartObject("message");
        json.WriteString("id", id);
        json.WriteString("type", "message");
        json.WriteString("role", "assistant");
        json.WriteString("model", Model);
        json.WriteStartArray("content");
        json.WriteEndArray();
        json.WriteNull("stop_reason");
        json.WriteNull("stop_sequence");
        WriteUsage(json, usage, 1);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    private void BlockStart(Action<Utf8JsonWriter> block)
    {
        index++;
        Event("content_block_start", json =>
        {
            json.WriteStartObject();
            json.WriteString("type", "content_block_start");
            json.WriteNumber("index", index);
            json.WritePropertyName("content_block");
            json.WriteStartObject();
            block(json);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    private void Delta(string type, string field, string value) => Event("content_block_delta", json =>
    {
        json.WriteStartObject();
        json.WriteString("type", "content_block_delta");
        json.WriteNumber("index", index);
        json.WriteStartObject("delta");
        json.WriteString("type", type);
        json.WriteString(field, value);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    private void BlockStop() => Event("content_block_stop", json =>
    {
        json.WriteStartObject();
        json.WriteString("type", "content_block_stop");
        json.WriteNumber("index", index);
        json.WriteEndObject();
    });

    public override void ReasoningStart() => BlockStart(json =>
    {
        json.WriteString("type", "thinking");
        json.WriteString("thinking", "");
        json.WriteString("signature", "");
    });

    public override void ReasoningDelta(string piece) => Delta("thinking_delta", "thinking", piece);

    public override void ReasoningEnd(string reasoning)
    {
        Delta("signature_delta", "signature", Signature(reasoning));
        BlockStop();
    }

    public override void TextStart() => BlockStart(json =>
    {
        json.WriteString("type", "text");
        json.WriteString("text", "");
    });

    public override void TextDelta(string piece) => Delta("text_delta", "text", piece);

    public override void TextEnd(string text) => BlockStop();

    public override void ToolCallStart(string callId, SimulatedToolCall call) => BlockStart(json =>
    {
        json.WriteString("type", "tool_use");
        json.WriteString("id", callId);
        json.WriteString("name", call.Name);
        json.WriteStartObject("input");
        json.WriteEndObject();
    });

    public override void ToolCallArguments(string piece) => Delta("input_json_delta", "partial_json", piece);

    public override void ToolCallEnd(string callId, SimulatedToolCall call) => BlockStop();

    public override void Finish(SimulatedReply reply, SimulatedUsage usage)
    {
        Event("message_delta", json =>
        {
            json.WriteStartObject();
            json.WriteString("type", "message_delta");
            json.WriteStartObject("delta");
            json.WriteString("stop_reason", StopReason(reply));
            json.WriteNull("stop_sequence");
            json.WriteEndObject();
            WriteUsage(json, usage, usage.CompletionTokens);
            json.WriteEndObject();
        });
        Event("message_stop", json =>
        {
            json.WriteStartObject();
            json.WriteString("type", "message_stop");
            json.WriteEndObject();
        });
    }

    public override void WriteWhole(Utf8JsonWriter json, SimulatedReply reply, IReadOnlyList<string> callIds, SimulatedUsage usage)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("type", "message");
        json.WriteString("role", "assistant");
        json.WriteString("model", Model);
        json.WriteStartArray("content");
        if (reply.Reasoning.Length > 0)
        {
            json.WriteStartObject();
            json.WriteString("type", "thinking");
            json.WriteString("thinking", reply.Reasoning);
            json.WriteString("signature", Signature(reply.Reasoning));
            json.WriteEndObject();
        }

        if (reply.Content.Length > 0 || reply.Calls.Count == 0)
        {
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteString("text", reply.Content);
            json.WriteEndObject();
        }

        for (int i = 0; i < reply.Calls.Count; i++)
        {
            json.WriteStartObject();
            json.WriteString("type", "tool_use");
            json.WriteString("id", callIds[i]);
            json.WriteString("name", reply.Calls[i].Name);
            WriteRawJson(json, "input", reply.Calls[i].Arguments);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("stop_reason", StopReason(reply));
        json.WriteNull("stop_sequence");
        WriteUsage(json, usage, usage.CompletionTokens);
        json.WriteEndObject();
    }

    public override void StreamError(SimulatedError error) => Event("error", json => WriteError(json, error));

    public override void WriteError(Utf8JsonWriter json, SimulatedError error)
    {
        json.WriteStartObject();
        json.WriteString("type", "error");
        json.WriteStartObject("error");
        json.WriteString("type", error.Status switch
        {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            _ => "api_error",
        });
        json.WriteString("message", error.Message);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
