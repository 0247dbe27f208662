using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using Registry = AiAssistant.Services.Tools.ToolRegistry.ToolRegistry;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.Mcp;

/// <summary>
/// MCP's <c>tools/list</c> and <c>tools/call</c> over the chat's <see cref="Registry"/>, with surface MCP. The default
/// (legacy) mode lists every tool the caller may see, with its instructions as the description; <c>?tool_mode=registry</c>
/// lists only the root tools <c>search</c>, <c>execute</c> and <c>schema</c>. Every call runs the registry's pipeline
/// (validation, the delete guard, no approval step — the MCP client asks its user —, the handler, the audit); a tool
/// error is an <c>isError</c> result holding the JSON error envelope, an image result is image content.
/// </summary>
public sealed class McpTools(Registry registry)
{
    public ValueTask<ListToolsResult> ListAsync(McpRequest request, CancellationToken ct)
    {
        var tools = request.RegistryMode
            ? registry.Roots
            : registry.Visible(request.Caller, request.Scope).Where(t => t.Name is not (Registry.Search or Registry.Execute));
        return ValueTask.FromResult(new ListToolsResult { Tools = tools.Select(t => Describe(t, request.RegistryMode)).ToList() });
    }

    public async ValueTask<CallToolResult> CallAsync(McpRequest request, CallToolRequestParams call, CancellationToken ct)
    {
        var input = call.Arguments is null ? new JsonObject() : JsonSerializer.SerializeToNode(call.Arguments);
        var outcome = request.RegistryMode
            ? await registry.CallRootAsync(call.Name, input, request.Caller, request.Scope, approval: null, ct)
            : await registry.ExecuteAsync(call.Name, input, request.Caller, request.Scope, approval: null, ct);
        if (!outcome.IsError && Media(outcome.Result) is { } media) return new CallToolResult { Content = [media] };
        return new CallToolResult
        {
            IsError = outcome.IsError,
            Content = [new TextContentBlock { Text = outcome.ToEnvelope().ToJsonString() }],
        };
    }

    private static Tool Describe(ToolManifest tool, bool registryMode) => new()
    {
        Name = tool.Name,
        Title = tool.Title,
        // in legacy mode the client's model reads no search results: the usage guide is the description
        Description = !registryMode && tool.Instructions.Length > 0 ? tool.Instructions : tool.Description,
        InputSchema = JsonSerializer.SerializeToElement(tool.InputSchema),
        Annotations = new ToolAnnotations
        {
            Title = tool.Title,
            ReadOnlyHint = tool.ReadOnly,
            DestructiveHint = !tool.ReadOnly,
            OpenWorldHint = tool.OpenWorld ? true : null,
        },
    };

    /// <summary>A result the <c>assets</c> tool shapes as <c>{type: "image"|"audio", data: base64, mimeType}</c>.</summary>
    private static ContentBlock? Media(JsonNode? result)
    {
        if (result is not JsonObject o || Text(o["data"]) is not { Length: > 0 } data || Text(o["mimeType"]) is not { Length: > 0 } mimeType) return null;
        var bytes = new byte[data.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(data, bytes, out var length)) return null;
        return Text(o["type"]) switch
        {
            "image" => ImageContentBlock.FromBytes(bytes.AsMemory(0, length), mimeType),
            "audio" => AudioContentBlock.FromBytes(bytes.AsMemory(0, length), mimeType),
            _ => null,
        };
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
