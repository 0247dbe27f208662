using System.Buffers;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>A provider's answer that is not a success; the message is safe to show (the key is scrubbed from it).</summary>
public sealed class ProviderException(string message) : Exception(message);

/// <summary>
/// <see cref="IChatClient"/> over the OpenAI Chat Completions wire format, for any OpenAI-compatible endpoint
/// (Ollama, Azure OpenAI, Mistral, LM Studio…). Written by hand: Microsoft.Extensions.AI.OpenAI is not in the package
/// source, and a direct reader of the SSE stream keeps the chat turn cheap.
/// </summary>
public sealed class OpenAiCompatibleChatClient(
    HttpClient http,
    Uri baseUrl,
    string apiKey,
    IReadOnlyList<KeyValuePair<string, string>> headers,
    string providerName) : IChatClient
{
    /// <summary>Key of <see cref="FunctionCallContent.AdditionalProperties"/> holding the arguments exactly as the model sent them.</summary>
    public const string RawArgumentsKey = "raw_arguments";

    private readonly Uri _completions = new(baseUrl.ToString().TrimEnd('/') + "/chat/completions");

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _completions)
        {
            Content = new ByteArrayContent(RequestBody(messages, options)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        // Local servers such as Ollama need no key: then no Authorization header at all.
        if (apiKey.Length > 0) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ProviderException($"Cannot connect to {providerName} at {baseUrl.Authority}: {e.HttpRequestError}.");
        }
        using var _ = response;
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new ProviderException($"{providerName} answered {(int)response.StatusCode}: {Scrub(ErrorMessage(body))}");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var lines = new SseLineReader(stream);
        var calls = new SortedDictionary<int, (string Id, string Name, StringBuilder Args)>();
        string? finishReason = null;
        while (await lines.ReadLineAsync(cancellationToken))
        {
            var update = ParseLine(lines.Line, calls, ref finishReason, out var done);
            if (done) break;
            if (update is not null) yield return update;
        }

        if (calls.Count > 0)
        {
            var contents = new List<AIContent>(calls.Count);
            foreach (var (_, call) in calls)
            {
                var raw = call.Args.ToString();
                contents.Add(new FunctionCallContent(call.Id, call.Name, ParseArguments(raw))
                {
                    AdditionalProperties = new AdditionalPropertiesDictionary { [RawArgumentsKey] = raw.Length == 0 ? "{}" : raw },
                });
            }
            yield return new ChatResponseUpdate(ChatRole.Assistant, contents) { FinishReason = ChatFinishReason.ToolCalls };
        }
        else if (finishReason is not null)
        {
            yield return new ChatResponseUpdate { Role = ChatRole.Assistant, FinishReason = new ChatFinishReason(finishReason) };
        }
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken)) updates.Add(update);
        return updates.ToChatResponse();
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() { }

    /// <summary>One line of the stream: <c>data: {chunk}</c> becomes an update (or null), <c>data: [DONE]</c> sets done.</summary>
    private static ChatResponseUpdate? ParseLine(ReadOnlyMemory<byte> line,
        SortedDictionary<int, (string Id, string Name, StringBuilder Args)> calls, ref string? finishReason, out bool done)
    {
        done = false;
        if (!line.Span.StartsWith("data:"u8)) return null;
        var data = line[5..];
        var span = data.Span;
        var start = 0;
        var end = span.Length;
        while (start < end && IsAsciiWhiteSpace(span[start])) start++;
        while (end > start && IsAsciiWhiteSpace(span[end - 1])) end--;
        data = data[start..end];
        span = data.Span;
        // Valid UTF-8 that starts and ends with a visible ASCII character (any JSON chunk, [DONE]) is parsed where it
        // lies; anything else goes the way of a decoded string, so that it is treated exactly as before.
        if (span.IsEmpty || !IsVisibleAscii(span[0]) || !IsVisibleAscii(span[^1]) || !Utf8.IsValid(span))
        {
            var text = Encoding.UTF8.GetString(line.Span).AsSpan(5).Trim();
            if (text.SequenceEqual("[DONE]")) { done = true; return null; }
            using var decoded = JsonDocument.Parse(text.ToString());
            return ParseChunk(decoded.RootElement, calls, ref finishReason);
        }
        if (span.SequenceEqual("[DONE]"u8)) { done = true; return null; }
        using var doc = JsonDocument.Parse(data);
        return ParseChunk(doc.RootElement, calls, ref finishReason);

        static bool IsAsciiWhiteSpace(byte b) => b is (byte)' ' or (>= (byte)'\t' and <= (byte)'\r');
        static bool IsVisibleAscii(byte b) => b is > (byte)' ' and < 0x7F;
    }

    private static ChatResponseUpdate? ParseChunk(JsonElement root,
        SortedDictionary<int, (string Id, string Name, StringBuilder Args)> calls, ref string? finishReason)
    {
        List<AIContent>? contents = null;
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            if (choice.TryGetProperty("finish_reason", out var fr) && fr.ValueKind == JsonValueKind.String) finishReason = fr.GetString();
            if (choice.TryGetProperty("delta", out var delta))
            {
                if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetString() is { Length: > 0 } text)
                    (contents ??= []).Add(new TextContent(text));
                if (delta.TryGetProperty("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
                {
                    foreach (var tc in toolCalls.EnumerateArray())
                    {
                        var index = tc.TryGetProperty("index", out var i) ? i.GetInt32() : 0;
                        if (!calls.TryGetValue(index, out var call)) call = ("", "", new StringBuilder());
                        if (tc.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String) call.Id = id.GetString()!;
                        if (tc.TryGetProperty("function", out var fn))
                        {
                            if (fn.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String) call.Name += name.GetString();
                            if (fn.TryGetProperty("arguments", out var args) && args.ValueKind == JsonValueKind.String) call.Args.Append(args.GetString());
                        }
                        calls[index] = call;
                    }
                }
            }
        }
        if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            (contents ??= []).Add(new UsageContent(new UsageDetails
            {
                InputTokenCount = usage.TryGetProperty("prompt_tokens", out var p) ? p.GetInt64() : null,
                OutputTokenCount = usage.TryGetProperty("completion_tokens", out var c) ? c.GetInt64() : null,
                TotalTokenCount = usage.TryGetProperty("total_tokens", out var t) ? t.GetInt64() : null,
            }));
        }
        return contents is null ? null : new ChatResponseUpdate(ChatRole.Assistant, contents);
    }

    private static Dictionary<string, object?> ParseArguments(string raw)
    {
        var result = new Dictionary<string, object?>();
        if (string.IsNullOrWhiteSpace(raw)) return result;
        try
        {
            using var doc = JsonDocument.Parse(raw);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
                foreach (var p in doc.RootElement.EnumerateObject()) result[p.Name] = p.Value.Clone();
        }
        catch (JsonException) { /* the raw text is kept; the tool reports the bad input */ }
        return result;
    }

    private byte[] RequestBody(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", options?.ModelId);
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
            w.WriteStartArray("messages");
            if (options?.Instructions is { Length: > 0 } instructions)
            {
                w.WriteStartObject();
                w.WriteString("role", "system");
                w.WriteString("content", instructions);
                w.WriteEndObject();
            }
            foreach (var message in messages) WriteMessage(w, message);
            w.WriteEndArray();
            if (options?.Tools is { Count: > 0 } tools)
            {
                w.WriteStartArray("tools");
                foreach (var tool in tools.OfType<AIFunctionDeclaration>())
                {
                    w.WriteStartObject();
                    w.WriteString("type", "function");
                    w.WriteStartObject("function");
                    w.WriteString("name", tool.Name);
                    w.WriteString("description", tool.Description);
                    w.WritePropertyName("parameters");
                    tool.JsonSchema.WriteTo(w);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMessage(Utf8JsonWriter w, ChatMessage message)
    {
        if (message.Role == ChatRole.Tool)
        {
            foreach (var result in message.Contents.OfType<FunctionResultContent>())
            {
                w.WriteStartObject();
                w.WriteString("role", "tool");
                w.WriteString("tool_call_id", result.CallId);
                w.WriteString("content", result.Result as string ?? JsonSerializer.Serialize(result.Result));
                w.WriteEndObject();
            }
            return;
        }
        w.WriteStartObject();
        w.WriteString("role", message.Role.Value);
        var text = string.Concat(message.Contents.OfType<TextContent>().Select(t => t.Text));
        var calls = message.Contents.OfType<FunctionCallContent>().ToList();
        if (text.Length > 0 || calls.Count == 0) w.WriteString("content", text);
        else w.WriteNull("content");
        if (calls.Count > 0)
        {
            w.WriteStartArray("tool_calls");
            foreach (var call in calls)
            {
                w.WriteStartObject();
                w.WriteString("id", call.CallId);
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", call.Name);
                w.WriteString("arguments", call.AdditionalProperties?[RawArgumentsKey] as string ?? JsonSerializer.Serialize(call.Arguments));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static string ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("error", out var error))
                return error.ValueKind == JsonValueKind.String ? error.GetString()! :
                    error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
        }
        catch (JsonException) { }
        return body.Length > 200 ? body[..200] : body;
    }

    /// <summary>Providers echo parts of a rejected key; none of it reaches a log or the browser.</summary>
    private string Scrub(string message) =>
        apiKey.Length >= 4 ? message.Replace(apiKey, "**********", StringComparison.Ordinal) : message;
}
