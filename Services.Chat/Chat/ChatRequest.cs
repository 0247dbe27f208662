using System.Text.Json;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Providers;

namespace AiAssistant.Services.Chat.Chat;

/// <summary>A tool the browser defines and runs itself (the reference's "local tools").</summary>
public sealed record ClientTool(string Name, string Description, JsonElement InputSchema);

/// <summary>The body of <c>POST /ai/chat</c>, as the reference's app sends it.</summary>
public sealed record ChatRequest(
    string Provider,
    string Model,
    IReadOnlyList<string> ServerTools,
    IReadOnlyList<ClientTool> ClientTools,
    JsonElement Messages)
{
    /// <summary>Parses and checks the body in the reference's order; every failure is a 400 naming the field.</summary>
    public static ChatRequest Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw Invalid("The body must be a JSON object", null);

        var provider = RequiredString(body, "provider");
        if (!ProviderTypes.IsValidId(provider))
            throw Invalid($"\"provider\" must be one of {string.Join(", ", ProviderTypes.All.Select(p => $"\"{p}\""))} or \"openai-compatible:<id>\"", "provider");
        var model = RequiredString(body, "model");

        if (!body.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
            throw Invalid("\"tools\" must be an array of tool names or tool definitions", "tools");
        var serverTools = new List<string>();
        var clientTools = new List<ClientTool>();
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind == JsonValueKind.String) serverTools.Add(tool.GetString()!);
            else if (tool.ValueKind == JsonValueKind.Object
                     && tool.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() is { Length: > 0 } name
                     && tool.TryGetProperty("inputSchema", out var schema) && schema.ValueKind == JsonValueKind.Object)
                clientTools.Add(new ClientTool(name,
                    tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "", schema.Clone()));
            else throw Invalid($"\"tools[{index}]\" must be a tool name or {{name, description, inputSchema}}", "tools");
            index++;
        }

        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw Invalid("\"messages\" must be an array of UI messages", "messages");
        if (messages.GetArrayLength() == 0) throw Invalid("\"messages\" must not be empty", "messages");

        return new ChatRequest(provider, model, serverTools, clientTools, messages.Clone());
    }

    private static string RequiredString(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s
            ? s : throw Invalid($"\"{name}\" is required and must be a string", name);

    private static DirectusException Invalid(string reason, string? field) => DirectusException.InvalidPayload(reason, field);
}
