using System.Buffers;
using System.Text;
using System.Text.Json;
using AiAssistant.ProviderSimulator.OpenAi;

namespace AiAssistant.ProviderSimulator.Control;

/// <summary>
/// The wire shape of scripted replies and pacing on the /_sim control API (documented in README.md):
/// <c>{"text"}</c>, <c>{"toolCalls":[{"name","arguments"}]}</c>, <c>{"error":{"status","message","type?","code?"}}</c>,
/// <c>{"hangUp":{"afterChunks"}}</c>, each with optional <c>pacing</c>, <c>usage</c>, <c>finishReason</c>.
/// </summary>
internal static class ReplyJson
{
    /// <exception cref="FormatException">The JSON does not describe replies; the message says what is wrong.</exception>
    public static List<SimulatedReply> ParseReplies(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object)
        {
            return [ParseReply(root, 0)];
        }

        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("Send a JSON array of replies (or one reply object).");
        }

        return [.. root.EnumerateArray().Select(ParseReply)];
    }

    public static Pacing ParsePacing(JsonElement element) => Pacing.FromMilliseconds(
        OptionalNumber(element, "timeToFirstTokenMs") ?? 0,
        OptionalNumber(element, "betweenTokensMs") ?? 0);

    public static void WritePacing(Utf8JsonWriter json, Pacing pacing)
    {
        json.WriteStartObject();
        json.WriteNumber("timeToFirstTokenMs", pacing.TimeToFirstToken.TotalMilliseconds);
        json.WriteNumber("betweenTokensMs", pacing.BetweenTokens.TotalMilliseconds);
        json.WriteEndObject();
    }

    private static SimulatedReply ParseReply(JsonElement element, int index)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"Reply {index} is not a JSON object.");
        }

        string? text = element.TryGetProperty("text", out var textElement) ? RequireString(textElement, $"reply {index}: text") : null;
        SimulatedReply reply;
        if (element.TryGetProperty("error", out var error))
        {
            reply = SimulatedReply.Error(
                (int)(OptionalNumber(error, "status") ?? throw new FormatException($"Reply {index}: error.status is required.")),
                OptionalString(error, "message") ?? "Simulated provider error.",
                OptionalString(error, "type"),
                OptionalString(error, "code"));
        }
        else if (element.TryGetProperty("streamError", out var streamError))
        {
            reply = SimulatedReply.ErrorMidStream((int)(OptionalNumber(streamError, "afterChunks") ?? 2),
                OptionalString(streamError, "message") ?? "Simulated error in the stream.", text);
        }
        else if (element.TryGetProperty("hangUp", out var hangUp))
        {
            reply = SimulatedReply.HangUp((int)(OptionalNumber(hangUp, "afterChunks") ?? 2), text);
        }
        else if (element.TryGetProperty("toolCalls", out var toolCalls))
        {
            if (toolCalls.ValueKind != JsonValueKind.Array || toolCalls.GetArrayLength() == 0)
            {
                throw new FormatException($"Reply {index}: toolCalls must be a non-empty array.");
            }

            reply = SimulatedReply.ToolCalls([.. toolCalls.EnumerateArray().Select(call => ParseToolCall(call, index))]) with
            {
                Content = text ?? "",
            };
        }
        else if (text is not null)
        {
            reply = SimulatedReply.Text(text);
        }
        else
        {
            throw new FormatException($"Reply {index} needs one of text, toolCalls, error, streamError or hangUp.");
        }

        return reply with
        {
            Pacing = element.TryGetProperty("pacing", out var pacing) ? ParsePacing(pacing) : null,
            Usage = element.TryGetProperty("usage", out var usage)
                ? new SimulatedUsage((int)(OptionalNumber(usage, "promptTokens") ?? 0), (int)(OptionalNumber(usage, "completionTokens") ?? 0),
                    (int)(OptionalNumber(usage, "cachedTokens") ?? 0), (int)(OptionalNumber(usage, "cacheCreationTokens") ?? 0),
                    (int)(OptionalNumber(usage, "reasoningTokens") ?? 0))
                : null,
            FinishReason = OptionalString(element, "finishReason"),
            Reasoning = OptionalString(element, "reasoning") ?? "",
            RetryAfter = OptionalNumber(error.ValueKind == JsonValueKind.Object ? error : default, "retryAfterSeconds") is { } seconds
                ? TimeSpan.FromSeconds(seconds) : null,
        };
    }

    private static (string Name, string Arguments) ParseToolCall(JsonElement call, int index)
    {
        string name = call.ValueKind == JsonValueKind.Object ? OptionalString(call, "name") ?? "" : "";
        if (name.Length == 0)
        {
            throw new FormatException($"Reply {index}: every tool call needs a name.");
        }

        // arguments may be given as the JSON string the model would emit or, more readably, as the JSON value itself
        string arguments = !call.TryGetProperty("arguments", out var args) ? "{}"
            : args.ValueKind == JsonValueKind.String ? args.GetString()!
            : Compact(args);
        return (name, arguments);
    }

    /// <summary>The value as a model writes it: no whitespace between tokens.</summary>
    private static string Compact(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            value.WriteTo(json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static double? OptionalNumber(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw new FormatException($"{name} must be a number.")
            : null;

    private static string? OptionalString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? RequireString(value, name)
            : null;

    private static string RequireString(JsonElement value, string what) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new FormatException($"{what} must be a string.");
}
