using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Providers.Gemini;

/// <summary>
/// Google Gemini on its native REST API (no Gemini .NET SDK is served here): <c>POST {base}/models/{model}:streamGenerateContent?alt=sse</c>
/// with <c>x-goog-api-key</c>. Function calls go out as <c>functionCall</c> parts with the <c>thoughtSignature</c> Gemini
/// gave them and come back as <c>functionResponse</c> parts; thoughts (<c>thought: true</c>) stream as reasoning;
/// <c>usageMetadata</c> becomes the turn's usage (cached and thinking tokens included).
/// </summary>
public sealed class GeminiChatClient(HttpClient http, Uri baseUrl, string apiKey) : IChatClient
{
    /// <summary>Where a call's <c>thoughtSignature</c> rides in <see cref="AIContent.AdditionalProperties"/> until it goes back.</summary>
    public const string ThoughtSignature = "thoughtSignature";

    private readonly ChatClientMetadata metadata = new("gcp.gemini", baseUrl);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var model = options?.ModelId ?? throw new InvalidOperationException("A Gemini request names its model in ChatOptions.ModelId.");
        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"{baseUrl.ToString().TrimEnd('/')}/models/{Uri.EscapeDataString(model)}:streamGenerateContent?alt=sse")
        {
            Content = new StringContent(GeminiRequest.Build(messages, options).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-goog-api-key", apiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException(ErrorMessage(await response.Content.ReadAsStringAsync(cancellationToken)), null, response.StatusCode);

        using var body = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        UsageDetails? usage = null;
        ChatFinishReason? finish = null;
        var responseId = "";
        var anyCall = false;
        while (await body.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            using var chunk = JsonDocument.Parse(line.AsMemory(5));
            var root = chunk.RootElement;
            // an error after the answer started comes as an event of its own
            if (root.TryGetProperty("error", out var failed))
                throw new HttpRequestException(ErrorMessage(line[5..]), null,
                    failed.TryGetProperty("code", out var code) && code.TryGetInt32(out var status) ? (System.Net.HttpStatusCode)status : System.Net.HttpStatusCode.InternalServerError);
            if (root.TryGetProperty("responseId", out var id)) responseId = id.GetString() ?? responseId;
            if (root.TryGetProperty("usageMetadata", out var u)) usage = Usage(u);
            if (!root.TryGetProperty("candidates", out var candidates) || candidates.GetArrayLength() == 0) continue;
            var candidate = candidates[0];
            if (candidate.TryGetProperty("finishReason", out var reason)) finish = FinishReason(reason.GetString());
            var contents = new List<AIContent>();
            if (candidate.TryGetProperty("content", out var content) && content.TryGetProperty("parts", out var parts))
                foreach (var part in parts.EnumerateArray())
                {
                    if (part.TryGetProperty("functionCall", out var call))
                    {
                        anyCall = true;
                        var arguments = call.TryGetProperty("args", out var args) ? ToolLoop.ToolArguments.FromJson(args) : [];
                        var functionCall = new FunctionCallContent(call.TryGetProperty("id", out var callId) ? callId.GetString()! : "call_" + Guid.NewGuid().ToString("N")[..24],
                            call.GetProperty("name").GetString()!, arguments);
                        if (part.TryGetProperty("thoughtSignature", out var signature))
                            (functionCall.AdditionalProperties ??= [])[ThoughtSignature] = signature.GetString();
                        contents.Add(functionCall);
                    }
                    else if (part.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 } value)
                        contents.Add(part.TryGetProperty("thought", out var thought) && thought.ValueKind == JsonValueKind.True
                            ? new TextReasoningContent(value) : new TextContent(value));
                }
            if (contents.Count > 0) yield return new ChatResponseUpdate(ChatRole.Assistant, contents) { ResponseId = responseId, ModelId = model };
        }

        if (finish == ChatFinishReason.Stop && anyCall) finish = ChatFinishReason.ToolCalls;
        var last = new ChatResponseUpdate(ChatRole.Assistant, usage is null ? [] : [new UsageContent(usage)]) { ResponseId = responseId, ModelId = model, FinishReason = finish };
        yield return last;
    }

    private static UsageDetails Usage(JsonElement u)
    {
        long Count(string name) => u.TryGetProperty(name, out var v) ? v.GetInt64() : 0;
        var thoughts = Count("thoughtsTokenCount");
        return new UsageDetails
        {
            InputTokenCount = Count("promptTokenCount"),
            OutputTokenCount = Count("candidatesTokenCount") + thoughts,
            TotalTokenCount = Count("totalTokenCount"),
            CachedInputTokenCount = Count("cachedContentTokenCount"),
            ReasoningTokenCount = thoughts,
        };
    }

    /// <summary>As the AI SDK's Google provider maps them.</summary>
    private static ChatFinishReason FinishReason(string? reason) => reason switch
    {
        "STOP" => ChatFinishReason.Stop,
        "MAX_TOKENS" => ChatFinishReason.Length,
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" => ChatFinishReason.ContentFilter,
        "MALFORMED_FUNCTION_CALL" => new ChatFinishReason("error"),
        _ => new ChatFinishReason("other"),
    };

    /// <summary>Gemini's <c>{"error":{"code","message","status"}}</c>; otherwise the start of the body.</summary>
    private static string ErrorMessage(string body)
    {
        try
        {
            if (JsonNode.Parse(body)?["error"]?["message"]?.GetValue<string>() is { } message) return message;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { }
        return body.Length > 200 ? body[..200] : body;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ChatClientMetadata) ? metadata
        : serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() { }
}
