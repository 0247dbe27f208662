using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using Json.Schema;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>Where a call comes from: the chat (approvals apply) or an external MCP client (its own client asks).</summary>
public enum ToolSurface { Chat, Mcp }

/// <summary>
/// What one request may see and run. <paramref name="Names"/>: the tools a chat request named (<c>null</c>: every
/// tool, as MCP). <paramref name="Approvals"/>: the user's mode per tool, <c>always</c>, <c>ask</c> (the default) or
/// <c>disabled</c>. <paramref name="AllowDeletes"/>: <c>mcp_allow_deletes</c>. <paramref name="SystemPrompt"/>: what the
/// <c>system-prompt</c> tool answers (<c>null</c>: its default); it is visible only when <paramref name="SystemPromptEnabled"/>.
/// </summary>
public sealed record ToolScope(
    ToolSurface Surface,
    IReadOnlySet<string>? Names,
    IReadOnlyDictionary<string, string> Approvals,
    bool AllowDeletes = true,
    bool SystemPromptEnabled = true,
    string? SystemPrompt = null)
{
    public static readonly IReadOnlyDictionary<string, string> NoApprovals = new Dictionary<string, string>();

    public string Approval(string tool) => Approvals.TryGetValue(tool, out var mode) ? mode : ApprovalModes.Ask;
}

public static class ApprovalModes
{
    public const string Always = "always";
    public const string Ask = "ask";
    public const string Disabled = "disabled";

    public static bool IsValid(string mode) => mode is Always or Ask or Disabled;
}

/// <summary>
/// A tool's data, read from <c>AssistantTools/&lt;name&gt;/tool.json</c> and <c>instructions.md</c>: what the model
/// reads (description, instructions, the permissive <see cref="InputSchema"/>), how search finds it (keywords), and the
/// rules the pipeline applies (strict per-action validation, read-only, admin-only, root exposure).
/// </summary>
public sealed class ToolManifest
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    public string Instructions { get; init; } = "";
    public IReadOnlyList<string> Keywords { get; init; } = [];
    public string? Title { get; init; }
    /// <summary>The loose JSON Schema the model sees.</summary>
    public required JsonObject InputSchema { get; init; }
    public JsonObject? OutputSchema { get; init; }
    /// <summary>The strict schema per <c>action</c> (key <c>""</c> when the tool has no actions).</summary>
    public required IReadOnlyDictionary<string, JsonSchema> Validation { get; init; }
    /// <summary>Read-only always (<c>true</c>), never (<c>false</c>, empty), or for these actions only.</summary>
    public bool ReadOnly { get; init; }
    public IReadOnlySet<string> ReadOnlyActions { get; init; } = new HashSet<string>();
    public bool Admin { get; init; }
    public bool Root { get; init; }
    /// <summary>Destructive unless read-only (an MCP annotation); <c>openWorldHint</c> for <c>execute</c>.</summary>
    public bool OpenWorld { get; init; }

    public bool HasActions => !Validation.ContainsKey("");

    public bool IsReadOnly(JsonObject input) =>
        ReadOnly || (input["action"] is JsonValue a && a.TryGetValue<string>(out var action) && ReadOnlyActions.Contains(action));
}

/// <summary>
/// Who calls, resolved once per call: the identity (<c>null</c> for none), the permission rows the content store
/// applies, and the same as a writer (activity rows of tool writes carry the surface as user agent).
/// </summary>
public sealed record ToolCaller(CallerIdentity? Identity, CallerPermissions Permissions, WriteCaller Writer)
{
    public bool IsAdmin => Identity?.Admin == true;
}

/// <summary>One call as a handler sees it: validated, coerced input and the caller.</summary>
public sealed record ToolCall(JsonObject Input, ToolCaller Caller, ToolScope Scope, CancellationToken Aborted)
{
    public string? Action => Input["action"] is JsonValue a && a.TryGetValue<string>(out var s) ? s : null;
}

/// <summary>The code behind one tool manifest (matched by <see cref="Name"/>).</summary>
public interface IToolHandler
{
    string Name { get; }

    /// <summary>The result the model reads; throw <see cref="ToolException"/> or a <c>DirectusException</c> to fail.</summary>
    Task<JsonNode?> HandleAsync(ToolCall call);

    /// <summary>The admin app's path (below <c>/admin/</c>) of a single record this tool returned, or <c>null</c>.</summary>
    string? Link(JsonObject input, JsonObject record) => null;
}

/// <summary>A failure the model can read and act on: <c>{ok:false, error:{code, message, recoverable, next?}}</c>.</summary>
public sealed class ToolException(string code, string message, bool recoverable = true, JsonObject? next = null) : Exception(message)
{
    public string Code { get; } = code;
    public bool Recoverable { get; } = recoverable;
    public JsonObject? Next { get; } = next;
}
