using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.ToolLoop;

/// <summary>
/// A tool call's input as <see cref="FunctionCallContent.Arguments"/> (what Microsoft.Extensions.AI carries and the
/// OpenAI adapter sends back to the model) and as JSON text (what the UI stream and the Tools service get).
/// </summary>
public static class ToolArguments
{
    private static readonly JsonSerializerOptions Compact = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    /// <summary>A JSON object's properties as arguments; anything else (the model's input is always an object) as none.</summary>
    public static Dictionary<string, object?> FromJson(JsonElement input)
    {
        var arguments = new Dictionary<string, object?>();
        if (input.ValueKind == JsonValueKind.Object)
            foreach (var property in input.EnumerateObject()) arguments[property.Name] = property.Value.Clone();
        return arguments;
    }

    public static string ToJson(FunctionCallContent call) =>
        call.Arguments is { } arguments ? JsonSerializer.Serialize(arguments, Compact) : "{}";
}
