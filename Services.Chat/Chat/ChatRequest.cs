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
    JsonElement Messages,
    IReadOnlyDictionary<string, string> ToolApprovals,
    ChatContext? Context)
{
    /// <summary>The model-facing root tools: a client tool may not take one of their names.</summary>
    public static readonly IReadOnlySet<string> RootTools = new HashSet<string> { "search", "execute", "schema" };

    /// <summary>Parses and checks the body in the reference's order; every failure is a 400 naming the field.</summary>
    public static ChatRequest Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw Invalid("The body must be a JSON object", null);

        var provider = RequiredString(body, "provider");
        if (!ProviderTypes.IsValidId(provider))
            throw Invalid($"\"provider\" must be one of {string.Join(", ", ProviderTypes.All.Select(p => $"\"{p}\""))} or \"openai-compatible:<id>\"", "provider");
        var model = RequiredString(body, "model");

        var approvals = new Dictionary<string, string>(StringComparer.Ordinal);
        if (body.TryGetProperty("toolApprovals", out var modes) && modes.ValueKind != JsonValueKind.Null)
        {
            if (modes.ValueKind != JsonValueKind.Object) throw Invalid("\"toolApprovals\" must be an object of tool names to \"always\", \"ask\" or \"disabled\"", "toolApprovals");
            foreach (var mode in modes.EnumerateObject())
                approvals[mode.Name] = mode.Value.ValueKind == JsonValueKind.String && mode.Value.GetString() is "always" or "ask" or "disabled"
                    ? mode.Value.GetString()! : throw Invalid($"\"toolApprovals.{mode.Name}\" must be \"always\", \"ask\" or \"disabled\"", "toolApprovals");
        }

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
                     && tool.TryGetProperty("inputSchema", out var schema))
            {
                if (RootTools.Contains(name) || clientTools.Any(t => t.Name == name))
                    throw Invalid($"Tool by name \"{name}\" already exists", "tools");
                if (approvals.GetValueOrDefault(name) != "disabled")
                    clientTools.Add(new ClientTool(name,
                        tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "", ObjectSchema(schema, index)));
            }
            else throw Invalid($"\"tools[{index}]\" must be a tool name or {{name, description, inputSchema}}", "tools");
            index++;
        }

        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
            throw Invalid("\"messages\" must be an array of UI messages", "messages");
        if (messages.GetArrayLength() == 0) throw Invalid("\"messages\" must not be empty", "messages");

        var context = body.TryGetProperty("context", out var c) && c.ValueKind != JsonValueKind.Null ? ChatContext.Parse(c) : null;
        return new ChatRequest(provider, model, serverTools.Where(t => approvals.GetValueOrDefault(t) != "disabled").Distinct().ToList(),
            clientTools, messages.Clone(), approvals, context);
    }

    /// <summary>
    /// A client tool's input schema as the reference accepts it (draft-07, an object schema or object-shaped: with
    /// <c>properties</c> or <c>required</c> and no other type, <c>type: "object"</c> is added).
    /// </summary>
    private static JsonElement ObjectSchema(JsonElement schema, int index)
    {
        const string Message = "Tool input schema must be an object schema";
        if (schema.ValueKind != JsonValueKind.Object) throw Invalid($"{Message} (tools[{index}].inputSchema)", "tools");
        if (schema.TryGetProperty("$schema", out var meta) && meta.GetString() is not ("http://json-schema.org/draft-07/schema#" or "http://json-schema.org/draft-07/schema"))
            throw Invalid($"{Message} (tools[{index}].inputSchema): \"$schema\" may only be the draft-07 meta-schema", "tools");
        if (schema.TryGetProperty("type", out var type))
            return type.ValueKind == JsonValueKind.String && type.GetString() == "object" ? schema.Clone() : throw Invalid($"{Message} (tools[{index}].inputSchema)", "tools");
        if (!schema.TryGetProperty("properties", out _) && !schema.TryGetProperty("required", out _) && !schema.TryGetProperty("additionalProperties", out _))
            throw Invalid($"{Message} (tools[{index}].inputSchema)", "tools");
        var withType = System.Text.Json.Nodes.JsonNode.Parse(schema.GetRawText())!.AsObject();
        withType["type"] = "object";
        return JsonSerializer.SerializeToElement(withType);
    }

    private static string RequiredString(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s
            ? s : throw Invalid($"\"{name}\" is required and must be a string", name);

    private static DirectusException Invalid(string reason, string? field) => DirectusException.InvalidPayload(reason, field);
}
