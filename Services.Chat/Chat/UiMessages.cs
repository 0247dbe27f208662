using System.Text.Json;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.ToolLoop;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Chat;

/// <summary>
/// The user's answer to a <c>tool-approval-request</c>, as the AI SDK v6 client sends it back: the last assistant
/// message's tool part in state <c>approval-responded</c> with <c>approval {id, approved, signature?, reason?}</c>.
/// </summary>
public sealed record ApprovalResponse(string ToolCallId, string ToolName, string InputJson, string Id, string Signature, bool Approved);

/// <summary>The conversation for the model, and the approval answers the turn must act on first.</summary>
/// <remarks><paramref name="DroppedFiles"/>: file parts left out, having no provider file id for this provider.</remarks>
public sealed record Conversation(List<ChatMessage> Messages, IReadOnlyList<ApprovalResponse> Approvals, int DroppedFiles = 0);

/// <summary>
/// AI SDK UI messages (<c>{id, role, parts:[…]}</c>) to chat messages: text parts become text, tool parts with an
/// output become a call and its result (a denied one, a result saying so). Tool parts the user answered
/// (<c>approval-responded</c>, in the last message only) become calls whose results the turn produces. Calls without
/// an outcome (still awaiting approval, interrupted) are left out: a provider refuses a call without a result.
/// Each step of an assistant message (<c>step-start</c>) becomes its own assistant message and tool results, as the AI
/// SDK's <c>convertToModelMessages</c> does; a reasoning part goes back only with its signature (<see cref="ProviderMetadata"/>).
/// A <c>file</c> part reaches the model as the provider's own file (<see cref="HostedFileContent"/>, the id
/// <c>POST /ai/files</c> answered, in <c>providerMetadata.directus.fileId</c>), as the reference's
/// <c>transformFilePartsForProvider</c> does; one without an id, or uploaded to another provider, is dropped and counted.
/// </summary>
public static class UiMessages
{
    public static readonly string DeniedOutput = JsonSerializer.Serialize(new
    {
        ok = false, error = new { code = "APPROVAL_DENIED", message = "The user denied this tool call.", recoverable = false },
    });

    public static List<ChatMessage> ToChatMessages(JsonElement messages) => ToConversation(messages).Messages;

    /// <param name="provider">The request's provider: a file uploaded to another one is dropped.</param>
    public static Conversation ToConversation(JsonElement messages, string? provider = null)
    {
        var dropped = 0;
        var result = new List<ChatMessage>();
        var approvals = new List<ApprovalResponse>();
        var index = 0;
        var count = messages.GetArrayLength();
        foreach (var message in messages.EnumerateArray())
        {
            var last = index == count - 1;
            var at = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object) throw DirectusException.InvalidPayload($"\"{at}\" must be an object", "messages");
            var role = message.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            if (role is not ("user" or "assistant" or "system"))
                throw DirectusException.InvalidPayload($"\"{at}.role\" must be \"user\", \"assistant\" or \"system\"", "messages");
            if (!message.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Array)
                throw DirectusException.InvalidPayload($"\"{at}.parts\" must be an array", "messages");

            var contents = new List<AIContent>();
            var results = new List<AIContent>();
            var chatRole = role == "user" ? ChatRole.User : role == "system" ? ChatRole.System : ChatRole.Assistant;
            // each step of an assistant message is its own exchange: what the model said, then its calls' results
            void EndStep()
            {
                if (contents.Count > 0) result.Add(new ChatMessage(chatRole, contents));
                if (results.Count > 0) result.Add(new ChatMessage(ChatRole.Tool, results));
                contents = [];
                results = [];
            }
            foreach (var part in parts.EnumerateArray())
            {
                var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                if (type == "text" && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                    contents.Add(new TextContent(text.GetString()));
                else if (type == "file")
                {
                    if (ProviderFile(part, provider) is { } file) contents.Add(file);
                    else dropped++;
                }
                else if (role != "assistant") continue;
                else if (type == "step-start") EndStep();
                // a signed reasoning goes back (Anthropic wants it before a call); an unsigned one is only for the reader
                else if (type == "reasoning" && ProviderMetadata.Read(part, "providerMetadata", ProviderMetadata.ProtectedData) is { } signed)
                    contents.Add(new TextReasoningContent(part.TryGetProperty("text", out var thought) && thought.ValueKind == JsonValueKind.String ? thought.GetString() : "") { ProtectedData = signed });
                else if (type.StartsWith("tool-", StringComparison.Ordinal) || type == "dynamic-tool")
                    AddToolPart(part, type, contents, results, last ? approvals : null);
            }
            EndStep();
        }
        return new Conversation(result, approvals, dropped);
    }

    /// <summary>A file part's provider file: <c>providerMetadata.directus.fileId</c> (and its <c>provider</c>, when given, this one).</summary>
    private static HostedFileContent? ProviderFile(JsonElement part, string? provider)
    {
        if (!part.TryGetProperty("providerMetadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty("directus", out var directus) || directus.ValueKind != JsonValueKind.Object)
            return null;
        var fileId = String(directus, "fileId");
        var uploadedTo = String(directus, "provider");
        if (fileId.Length == 0 || (provider is not null && uploadedTo.Length > 0 && uploadedTo != provider)) return null;
        var file = new HostedFileContent(fileId);
        if (String(part, "mediaType") is { Length: > 0 } mediaType) file.MediaType = mediaType;
        if (String(part, "filename") is { Length: > 0 } name) file.Name = name;
        return file;
    }

    private static void AddToolPart(JsonElement part, string type, List<AIContent> calls, List<AIContent> results, List<ApprovalResponse>? approvals)
    {
        var name = type == "dynamic-tool"
            ? part.TryGetProperty("toolName", out var tn) ? tn.GetString() ?? "" : ""
            : type["tool-".Length..];
        var callId = part.TryGetProperty("toolCallId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : "";
        var state = part.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (callId.Length == 0) return;
        // the reference's fixErrorToolCalls: a failed call without input replays its raw input
        var input = part.TryGetProperty("input", out var i) ? i : part.TryGetProperty("rawInput", out var ri) ? ri : default;

        if (state == "approval-responded" && approvals is not null)
        {
            var approval = part.TryGetProperty("approval", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
            calls.Add(Call(part, callId, name, input));
            approvals.Add(new ApprovalResponse(callId, name, input.ValueKind == JsonValueKind.Undefined ? "{}" : input.GetRawText(),
                String(approval, "id"), String(approval, "signature"),
                approval.ValueKind == JsonValueKind.Object && approval.TryGetProperty("approved", out var ok) && ok.ValueKind == JsonValueKind.True));
            return;
        }
        if (state is not ("output-available" or "output-error" or "output-denied")) return;

        calls.Add(Call(part, callId, name, input));
        var output = state switch
        {
            "output-available" when part.TryGetProperty("output", out var o) => o.GetRawText(),
            "output-denied" => DeniedOutput,
            _ => JsonSerializer.Serialize(new { error = part.TryGetProperty("errorText", out var e) ? e.GetString() : "The tool failed." }),
        };
        results.Add(new FunctionResultContent(callId, output));
    }

    /// <summary>A call as the model made it, with the Gemini signature it came with.</summary>
    private static FunctionCallContent Call(JsonElement part, string callId, string name, JsonElement input)
    {
        var call = new FunctionCallContent(callId, name, ToolArguments.FromJson(input));
        if (ProviderMetadata.Read(part, "callProviderMetadata", ProviderMetadata.ThoughtSignature) is { } signature)
            call.AdditionalProperties = new() { [ProviderMetadata.ThoughtSignature] = signature };
        return call;
    }

    private static string String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
}
