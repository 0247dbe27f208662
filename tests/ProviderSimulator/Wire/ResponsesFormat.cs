using System.Buffers;
using System.Text;
using System.Text.Json;
using AiAssistant.ProviderSimulator.OpenAi;

namespace AiAssistant.ProviderSimulator.Wire;

/// <summary>
/// OpenAI's Responses API: <c>response.created</c>, per output item <c>response.output_item.added|done</c> around its
/// deltas (a <c>reasoning</c> item's summary with its <c>encrypted_content</c>, a <c>message</c>'s output text, a
/// <c>function_call</c>'s arguments), then <c>response.completed</c> (or <c>response.incomplete</c>) with every item
/// and the usage (cached and reasoning tokens included).
/// </summary>
internal sealed class ResponsesFormat : StreamFormat
{
    private readonly string id = "resp_" + NewToken();
    private readonly long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly List<string> items = [];
    private int sequence;
    private string itemId = "";
    private readonly StringBuilder arguments = new();

    public override string NewCallId() => "call_" + NewToken();

    /// <summary>What the simulator hands out as a reasoning item's encrypted content; a client sends it back as is.</summary>
    public static string EncryptedReasoning(string reasoning) => "enc_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(reasoning));

    private void Typed(string type, Action<Utf8JsonWriter> fields) => Event(type, json =>
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteNumber("sequence_number", sequence++);
        fields(json);
        json.WriteEndObject();
    });

    private static string Item(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions)) write(json);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string ReasoningItem(string itemId, string? text) => Item(json =>
    {
        json.WriteStartObject();
        json.WriteString("id", itemId);
        json.WriteString("type", "reasoning");
        json.WriteStartArray("summary");
        if (text is not null)
        {
            json.WriteStartObject();
            json.WriteString("type", "summary_text");
            json.WriteString("text", text);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (text is not null) json.WriteString("encrypted_content", EncryptedReasoning(text));
        json.WriteEndObject();
    });

    private static string MessageItem(string itemId, string? text) => Item(json =>
    {
        json.WriteStartObject();
        json.WriteString("id", itemId);
        json.WriteString("type", "message");
        json.WriteString("status", text is null ? "in_progress" : "completed");
        json.WriteString("role", "assistant");
        json.WriteStartArray("content");
        if (text is not null) WriteTextPart(json, text);
        json.WriteEndArray();
        json.WriteEndObject();
    });

    private static string CallItem(string itemId, string callId, string name, string? args) => Item(json =>
    {
        json.WriteStartObject();
        json.WriteString("id", itemId);
        json.WriteString("type", "function_call");
        json.WriteString("status", args is null ? "in_progress" : "completed");
        json.WriteString("arguments", args ?? "");
        json.WriteString("call_id", callId);
        json.WriteString("name", name);
        json.WriteEndObject();
    });

    private static void WriteTextPart(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type", "output_text");
        json.WriteString("text", text);
        json.WriteStartArray("annotations");
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private void ItemEvent(string type, string item) => Typed(type, json =>
    {
        json.WriteNumber("output_index", items.Count);
        json.WritePropertyName("item");
        json.WriteRawValue(item, skipInputValidation: true);
    });

    private void ItemDone(string item)
    {
        ItemEvent("response.output_item.done", item);
        items.Add(item);
    }

    /// <summary>An event about the current item: its id and output index, the part's index when named, then the rest.</summary>
    private void PartEvent(string type, string? index, Action<Utf8JsonWriter> rest) => Typed(type, json =>
    {
        json.WriteString("item_id", itemId);
        json.WriteNumber("output_index", items.Count);
        if (index is not null) json.WriteNumber(index, 0);
        rest(json);
    });

    private void ItemDelta(string type, string delta, string? index = null) => PartEvent(type, index, json => json.WriteString("delta", delta));

    private void WriteResponse(Utf8JsonWriter json, SimulatedReply? reply, SimulatedUsage? usage)
    {
        bool incomplete = reply?.FinishReason is "length" or "max_output_tokens";
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "response");
        json.WriteNumber("created_at", created);
        json.WriteString("status", reply is null ? "in_progress" : incomplete ? "incomplete" : "completed");
        if (incomplete)
        {
            json.WriteStartObject("incomplete_details");
            json.WriteString("reason", "max_output_tokens");
            json.WriteEndObject();
        }

        json.WriteString("model", Model);
        json.WriteStartArray("output");
        foreach (var item in items) json.WriteRawValue(item, skipInputValidation: true);
        json.WriteEndArray();
        json.WriteBoolean("parallel_tool_calls", true);
        json.WriteBoolean("store", false);
        if (usage is null)
        {
            json.WriteNull("usage");
        }
        else
        {
            json.WriteStartObject("usage");
            json.WriteNumber("input_tokens", usage.PromptTokens);
            json.WriteStartObject("input_tokens_details");
            json.WriteNumber("cached_tokens", usage.CachedTokens);
            json.WriteEndObject();
            json.WriteNumber("output_tokens", usage.CompletionTokens);
            json.WriteStartObject("output_tokens_details");
            json.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
            json.WriteEndObject();
            json.WriteNumber("total_tokens", usage.PromptTokens + usage.CompletionTokens);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    public override void Start(SimulatedUsage usage)
    {
        Typed("response.created", json => { json.WritePropertyName("response"); WriteResponse(json, null, null); });
        Typed("response.in_progress", json => { json.WritePropertyName("response"); WriteResponse(json, null, null); });
    }

    public override void ReasoningStart()
    {
        itemId = "rs_" + NewToken();
        ItemEvent("response.output_item.added", ReasoningItem(itemId, null));
        PartEvent("response.reasoning_summary_part.added", "summary_index", json =>
        {
            json.WriteStartObject("part");
            json.WriteString("type", "summary_text");
            json.WriteString("text", "");
            json.WriteEndObject();
        });
    }

    public override void ReasoningDelta(string piece) => ItemDelta("response.reasoning_summary_text.delta", piece, "summary_index");

    public override void ReasoningEnd(string reasoning)
    {
        PartEvent("response.reasoning_summary_text.done", "summary_index", json => json.WriteString("text", reasoning));
        ItemDone(ReasoningItem(itemId, reasoning));
    }

    public override void TextStart()
    {
        itemId = "msg_" + NewToken();
        ItemEvent("response.output_item.added", MessageItem(itemId, null));
        PartEvent("response.content_part.added", "content_index", json =>
        {
            json.WritePropertyName("part");
            WriteTextPart(json, "");
        });
    }

    public override void TextDelta(string piece) => ItemDelta("response.output_text.delta", piece, "content_index");

    public override void TextEnd(string text)
    {
        PartEvent("response.output_text.done", "content_index", json => json.WriteString("text", text));
        PartEvent("response.content_part.done", "content_index", json =>
        {
            json.WritePropertyName("part");
            WriteTextPart(json, text);
        });
        ItemDone(MessageItem(itemId, text));
    }

    public override void ToolCallStart(string callId, SimulatedToolCall call)
    {
        itemId = "fc_" + NewToken();
        arguments.Clear();
        ItemEvent("response.output_item.added", CallItem(itemId, callId, call.Name, null));
    }

    public override void ToolCallArguments(string piece)
    {
        arguments.Append(piece);
        ItemDelta("response.function_call_arguments.delta", piece);
    }

    public override void ToolCallEnd(string callId, SimulatedToolCall call)
    {
        PartEvent("response.function_call_arguments.done", null, json => json.WriteString("arguments", call.Arguments));
        ItemDone(CallItem(itemId, callId, call.Name, call.Arguments));
    }

    public override void Finish(SimulatedReply reply, SimulatedUsage usage)
    {
        bool incomplete = reply.FinishReason is "length" or "max_output_tokens";
        Typed(incomplete ? "response.incomplete" : "response.completed", json => { json.WritePropertyName("response"); WriteResponse(json, reply, usage); });
    }

    public override void WriteWhole(Utf8JsonWriter json, SimulatedReply reply, IReadOnlyList<string> callIds, SimulatedUsage usage)
    {
        if (reply.Reasoning.Length > 0) items.Add(ReasoningItem("rs_" + NewToken(), reply.Reasoning));
        if (reply.Content.Length > 0 || reply.Calls.Count == 0) items.Add(MessageItem("msg_" + NewToken(), reply.Content));
        for (int i = 0; i < reply.Calls.Count; i++) items.Add(CallItem("fc_" + NewToken(), callIds[i], reply.Calls[i].Name, reply.Calls[i].Arguments));
        WriteResponse(json, reply, usage);
    }

    /// <summary>As OpenAI ends a response that fails while it streams: <c>response.failed</c> with the error.</summary>
    public override void StreamError(SimulatedError error) => Typed("response.failed", json =>
    {
        json.WritePropertyName("response");
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "response");
        json.WriteNumber("created_at", created);
        json.WriteString("status", "failed");
        json.WriteStartObject("error");
        json.WriteString("code", "server_error");
        json.WriteString("message", error.Message);
        json.WriteEndObject();
        json.WriteString("model", Model);
        json.WriteStartArray("output");
        json.WriteEndArray();
        json.WriteEndObject();
    });

    public override void WriteError(Utf8JsonWriter json, SimulatedError error) => OpenAiJson.WriteError(json, error);
}
