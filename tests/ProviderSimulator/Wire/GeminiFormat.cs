using System.Text.Json;

namespace AiAssistant.ProviderSimulator.Wire;

/// <summary>
/// Gemini's <c>generateContent</c> response (and, streamed, one per SSE event without event names): candidates whose
/// parts are thoughts (<c>thought: true</c>), text, or whole <c>functionCall</c>s with a <c>thoughtSignature</c>; the last
/// event has <c>finishReason</c> and <c>usageMetadata</c> (cached and thinking tokens included).
/// </summary>
internal sealed class GeminiFormat : StreamFormat
{
    private readonly string responseId = NewToken();

    /// <summary>Gemini's calls have no ids; the simulator names the signature it expects back after this.</summary>
    public override string NewCallId() => "sig_" + NewToken();

    private static string FinishReason(SimulatedReply reply) => reply.FinishReason ?? "STOP";

    private static void WriteUsage(Utf8JsonWriter json, SimulatedUsage usage)
    {
        json.WriteStartObject("usageMetadata");
        json.WriteNumber("promptTokenCount", usage.PromptTokens);
        json.WriteNumber("candidatesTokenCount", usage.CompletionTokens - usage.ReasoningTokens);
        json.WriteNumber("totalTokenCount", usage.PromptTokens + usage.CompletionTokens);
        if (usage.CachedTokens > 0) json.WriteNumber("cachedContentTokenCount", usage.CachedTokens);
        if (usage.ReasoningTokens > 0) json.WriteNumber("thoughtsTokenCount", usage.ReasoningTokens);
        json.WriteEndObject();
    }

    private static void WriteCall(Utf8JsonWriter json, string signature, SimulatedToolCall call)
    {
        json.WriteStartObject();
        json.WriteStartObject("functionCall");
        json.WriteString("name", call.Name);
        WriteRawJson(json, "args", call.Arguments);
        json.WriteEndObject();
        json.WriteString("thoughtSignature", signature);
        json.WriteEndObject();
    }

    private void Chunk(Action<Utf8JsonWriter>? parts, string? finishReason = null, SimulatedUsage? usage = null) => Event(null, json =>
    {
        json.WriteStartObject();
        json.WriteStartArray("candidates");
        json.WriteStartObject();
        json.WriteStartObject("content");
        json.WriteStartArray("parts");
        parts?.Invoke(json);
        json.WriteEndArray();
        json.WriteString("role", "model");
        json.WriteEndObject();
        if (finishReason is not null) json.WriteString("finishReason", finishReason);
        json.WriteNumber("index", 0);
        json.WriteEndObject();
        json.WriteEndArray();
        if (usage is not null) WriteUsage(json, usage);
        json.WriteString("modelVersion", Model);
        json.WriteString("responseId", responseId);
        json.WriteEndObject();
    });

    private void TextPart(string text, bool thought) => Chunk(json =>
    {
        json.WriteStartObject();
        json.WriteString("text", text);
        if (thought) json.WriteBoolean("thought", true);
        json.WriteEndObject();
    });

    public override void Start(SimulatedUsage usage) { }
    public override void ReasoningStart() { }
    public override void ReasoningDelta(string piece) => TextPart(piece, thought: true);
    public override void ReasoningEnd(string reasoning) { }
    public override void TextStart() { }
    public override void TextDelta(string piece) => TextPart(piece, thought: false);
    public override void TextEnd(string text) { }
    public override void ToolCallStart(string id, SimulatedToolCall call) { }
    public override void ToolCallArguments(string piece) { }
    public override void ToolCallEnd(string id, SimulatedToolCall call) => Chunk(json => WriteCall(json, id, call));
    public override void Finish(SimulatedReply reply, SimulatedUsage usage) => Chunk(null, FinishReason(reply), usage);

    public override void WriteWhole(Utf8JsonWriter json, SimulatedReply reply, IReadOnlyList<string> callIds, SimulatedUsage usage)
    {
        json.WriteStartObject();
        json.WriteStartArray("candidates");
        json.WriteStartObject();
        json.WriteStartObject("content");
        json.WriteStartArray("parts");
        if (reply.Reasoning.Length > 0)
        {
            json.WriteStartObject();
            json.WriteString("text", reply.Reasoning);
            json.WriteBoolean("thought", true);
            json.WriteEndObject();
        }

        if (reply.Content.Length > 0 || reply.Calls.Count == 0)
        {
            json.WriteStartObject();
            json.WriteString("text", reply.Content);
            json.WriteEndObject();
        }

        for (int i = 0; i < reply.Calls.Count; i++) WriteCall(json, callIds[i], reply.Calls[i]);
        json.WriteEndArray();
        json.WriteString("role", "model");
        json.WriteEndObject();
        json.WriteString("finishReason", FinishReason(reply));
        json.WriteNumber("index", 0);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, usage);
        json.WriteString("modelVersion", Model);
        json.WriteString("responseId", responseId);
        json.WriteEndObject();
    }

    public override void StreamError(SimulatedError error) => Event(null, json => WriteError(json, error));

    public override void WriteError(Utf8JsonWriter json, SimulatedError error)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteNumber("code", error.Status);
        json.WriteString("message", error.Message);
        json.WriteString("status", error.Status switch
        {
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            429 => "RESOURCE_EXHAUSTED",
            503 => "UNAVAILABLE",
            _ => "INTERNAL",
        });
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
