using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>system-prompt</c> tool: the scope's prompt (MCP's <c>mcp_system_prompt</c>) when one is set,
/// else the default text of <c>AssistantTools/system-prompt/prompt.md</c>.
/// </summary>
public sealed class SystemPromptTool : IToolHandler
{
    public static readonly string Default = ToolCatalog.Text("system-prompt", "prompt.md")?.Trim()
        ?? throw new InvalidDataException("AssistantTools/system-prompt/prompt.md is not embedded");

    public string Name => "system-prompt";

    public Task<JsonNode?> HandleAsync(ToolCall call) =>
        Task.FromResult<JsonNode?>(JsonValue.Create(string.IsNullOrWhiteSpace(call.Scope.SystemPrompt) ? Default : call.Scope.SystemPrompt));
}
