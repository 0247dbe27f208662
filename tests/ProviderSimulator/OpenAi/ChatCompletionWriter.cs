using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AiAssistant.ProviderSimulator.OpenAi;

/// <summary>The fields every chunk (or the one completion) of a reply repeats.</summary>
internal sealed record CompletionIdentity(string Id, long Created, string Model)
{
    public static CompletionIdentity New(string model) =>
        new("chatcmpl-" + NewToken(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), model);

    public static string NewToolCallId() => "call_" + NewToken();

    private static string NewToken() => Guid.NewGuid().ToString("N")[..24];
}

/// <summary>Writes Chat Completions objects as UTF-8 JSON straight into the response, in OpenAI's field order.</summary>
internal static class OpenAiJson
{
    // Relaxed escaping sends non-ASCII text as UTF-8, as OpenAI does; skipping validation saves work on the hot path.
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public const string SystemFingerprint = "fp_simulator";

    public static void WriteUsage(Utf8JsonWriter json, SimulatedUsage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.PromptTokens);
        json.WriteNumber("completion_tokens", usage.CompletionTokens);
        json.WriteNumber("total_tokens", usage.PromptTokens + usage.CompletionTokens);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", usage.CachedTokens);
        json.WriteEndObject();
        json.WriteStartObject("completion_tokens_details");
        json.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void WriteError(Utf8JsonWriter json, SimulatedError error)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", error.Message);
        json.WriteString("type", error.Type);
        json.WriteNull("param");
        json.WriteString("code", error.Code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>A whole non-streaming <c>chat.completion</c>.</summary>
    public static void WriteCompletion(
        Utf8JsonWriter json, CompletionIdentity identity, SimulatedReply reply, string finishReason, SimulatedUsage usage)
    {
        json.WriteStartObject();
        json.WriteString("id", identity.Id);
        json.WriteString("object", "chat.completion");
        json.WriteNumber("created", identity.Created);
        json.WriteString("model", identity.Model);
        json.WriteString("system_fingerprint", SystemFingerprint);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        if (reply.Content.Length == 0 && reply.Calls.Count > 0)
        {
            json.WriteNull("content");
        }
        else
        {
            json.WriteString("content", reply.Content);
        }

        json.WriteNull("refusal");
        if (reply.Calls.Count > 0)
        {
            json.WriteStartArray("tool_calls");
            foreach (var call in reply.Calls)
            {
                json.WriteStartObject();
                json.WriteString("id", CompletionIdentity.NewToolCallId());
                json.WriteString("type", "function");
                json.WriteStartObject("function");
                json.WriteString("name", call.Name);
                json.WriteString("arguments", call.Arguments);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, usage);
        json.WriteEndObject();
    }
}

/// <summary>
/// Writes one reply as <c>chat.completion.chunk</c> server-sent events. The part every chunk repeats is encoded once
/// per reply; only the delta goes through the JSON writer. Nothing is flushed here: the caller decides when.
/// </summary>
internal sealed class ChatCompletionChunkWriter
{
    private static ReadOnlySpan<byte> ChoiceStart => "{\"index\":0,\"delta\":"u8;
    private static ReadOnlySpan<byte> OpenChoiceEnd => ",\"logprobs\":null,\"finish_reason\":null}]"u8;
    private static ReadOnlySpan<byte> FinishStart => ",\"logprobs\":null,\"finish_reason\":"u8;
    private static ReadOnlySpan<byte> UsageNull => ",\"usage\":null"u8;
    private static ReadOnlySpan<byte> EventEnd => "}\n\n"u8;
    private static ReadOnlySpan<byte> DoneEvent => "data: [DONE]\n\n"u8;

    private readonly IBufferWriter<byte> output;
    private readonly Utf8JsonWriter json;
    private readonly byte[] head;
    private readonly bool includeUsage;

    public ChatCompletionChunkWriter(IBufferWriter<byte> output, CompletionIdentity identity, bool includeUsage)
    {
        this.output = output;
        this.includeUsage = includeUsage;
        json = new Utf8JsonWriter(output, OpenAiJson.WriterOptions);
        head = Encoding.UTF8.GetBytes(
            $"data: {{\"id\":\"{identity.Id}\",\"object\":\"chat.completion.chunk\",\"created\":{identity.Created}," +
            $"\"model\":\"{JsonEncodedText.Encode(identity.Model, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\"," +
            $"\"system_fingerprint\":\"{OpenAiJson.SystemFingerprint}\",\"choices\":[");
    }

    /// <summary>The opening delta <c>{"role":"assistant","content":""}</c> of a reply that has text.</summary>
    public void Role()
    {
        StartDelta();
        json.WriteString("role", "assistant");
        json.WriteString("content", "");
        EndDelta();
    }

    public void Content(ReadOnlySpan<char> piece)
    {
        StartDelta();
        json.WriteString("content", piece);
        EndDelta();
    }

    /// <summary>Announces a tool call (id, name, empty arguments); the first delta of a reply carries the role too.</summary>
    public void ToolCallStart(int index, string id, string name, bool withRole)
    {
        StartDelta();
        if (withRole)
        {
            json.WriteString("role", "assistant");
            json.WriteNull("content");
        }

        json.WriteStartArray("tool_calls");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteString("id", id);
        json.WriteString("type", "function");
        json.WriteStartObject("function");
        json.WriteString("name", name);
        json.WriteString("arguments", "");
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        EndDelta();
    }

    public void ToolCallArguments(int index, ReadOnlySpan<char> piece)
    {
        StartDelta();
        json.WriteStartArray("tool_calls");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteStartObject("function");
        json.WriteString("arguments", piece);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        EndDelta();
    }

    public void Finish(string finishReason)
    {
        output.Write(head);
        output.Write(ChoiceStart);
        output.Write("{}"u8);
        output.Write(FinishStart);
        json.WriteStringValue(finishReason);
        FlushJson();
        output.Write("}]"u8);
        EndEvent();
    }

    /// <summary>The last chunk when the request asked for <c>stream_options.include_usage</c>: no choices, only usage.</summary>
    public void Usage(SimulatedUsage usage)
    {
        output.Write(head);
        output.Write("],"u8);
        OpenAiJson.WriteUsage(json, usage);
        FlushJson();
        output.Write(EventEnd);
    }

    public void Done() => output.Write(DoneEvent);

    private void StartDelta()
    {
        output.Write(head);
        output.Write(ChoiceStart);
        json.WriteStartObject();
    }

    private void EndDelta()
    {
        json.WriteEndObject();
        FlushJson();
        output.Write(OpenChoiceEnd);
        EndEvent();
    }

    private void EndEvent()
    {
        if (includeUsage)
        {
            output.Write(UsageNull);
        }

        output.Write(EventEnd);
    }

    private void FlushJson()
    {
        json.Flush();
        json.Reset();
    }
}
