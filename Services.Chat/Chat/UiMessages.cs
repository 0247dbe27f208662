using System.Text.Json;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.ToolLoop;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Chat;

/// <summary>
/// AI SDK UI messages (<c>{id, role, parts:[…]}</c>) to chat messages: text parts become text, tool parts with an
/// output become a call and its result. Reasoning, files and step markers are not sent back to the model.
/// </summary>
public static class UiMessages
{
    public static List<ChatMessage> ToChatMessages(JsonElement messages)
    {
        var result = new List<ChatMessage>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var at = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object) throw DirectusException.InvalidPayload($"\"{at}\" must be an object", "messages");
            var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            if (role is not ("user" or "assistant" or "system"))
                throw DirectusException.InvalidPayload($"\"{at}.role\" must be \"user\", \"assistant\" or \"system\"", "messages");
            if (!message.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array)
                throw DirectusException.InvalidPayload($"\"{at}.parts\" must be an array", "messages");

            var contents = new List<AIContent>();
            var results = new List<AIContent>();
            foreach (var part in parts.EnumerateArray())
            {
                var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                if (type == "text" && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    contents.Add(new TextContent(text.GetString()));
                else if (role == "assistant" && (type.StartsWith("tool-", StringComparison.Ordinal) || type == "dynamic-tool"))
                    AddToolPart(part, type, contents, results);
            }
            if (contents.Count > 0)
                result.Add(new ChatMessage(role == "user" ? ChatRole.User : role == "system" ? ChatRole.System : ChatRole.Assistant, contents));
            if (results.Count > 0) result.Add(new ChatMessage(ChatRole.Tool, results));
        }
        return result;
    }

    private static void AddToolPart(JsonElement part, string type, List<AIContent> calls, List<AIContent> results)
    {
        var name = type == "dynamic-tool"
            ? part.TryGetProperty("toolName", out var tn) ? tn.GetString() ?? "" : ""
            : type["tool-".Length..];
        var callId = part.TryGetProperty("toolCallId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : "";
        var state = part.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (callId.Length == 0 || state is not ("output-available" or "output-error")) return;

        var input = part.TryGetProperty("input", out var i) ? i : part.TryGetProperty("rawInput", out var ri) ? ri : default;
        calls.Add(new FunctionCallContent(callId, name, ToolArguments.FromJson(input)));
        var output = state == "output-available" && part.TryGetProperty("output", out var o)
            ? o.GetRawText()
            : JsonSerializer.Serialize(new { error = part.TryGetProperty("errorText", out var e) ? e.GetString() : "The tool failed." });
        results.Add(new FunctionResultContent(callId, output));
    }
}
