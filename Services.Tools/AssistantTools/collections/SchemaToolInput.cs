using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>What the admin-only schema tools (<c>collections</c>, <c>fields</c>, <c>relations</c>) check of a call.</summary>
public static class SchemaToolInput
{
    /// <summary>The registry hides these tools from non-admins; the store's schema changes are admin-only on their own too.</summary>
    public static void RequireAdmin(ToolCall call)
    {
        if (!call.Caller.IsAdmin) throw DirectusException.Forbidden();
    }

    public static string Text(JsonObject input, string name) => input[name]!.GetValue<string>();

    public static string? Optional(JsonObject input, string name) => input[name] is JsonValue v ? v.GetValue<string>() : null;

    /// <summary>A name the data repeats must be the one the call gives (<c>data.collection</c> = <c>collection</c>).</summary>
    public static void Same(JsonObject? data, string name, string? expected, string path)
    {
        if (expected is not null && data?[name] is JsonValue v && v.GetValue<string>() != expected)
            throw DirectusException.InvalidPayload($"\"{path}.{name}\" is \"{v.GetValue<string>()}\", but the call names \"{expected}\"", name);
    }
}
