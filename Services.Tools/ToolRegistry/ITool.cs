using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts.Tools;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>A failure the model can read and act on: returned as <c>{"error":{code,message,recoverable}}</c>.</summary>
public sealed class ToolException(string code, string message, bool recoverable = true) : Exception(message)
{
    public string Code { get; } = code;
    public bool Recoverable { get; } = recoverable;
}

/// <summary>One tool the assistant can call; it runs under the caller's identity.</summary>
public interface ITool
{
    string Name { get; }
    string Description { get; }
    /// <summary>JSON Schema (draft-07) of the input object.</summary>
    string InputSchema { get; }
    bool ReadOnly { get; }
    Task<JsonNode?> ExecuteAsync(JsonElement input, Caller caller, CancellationToken ct);
}
