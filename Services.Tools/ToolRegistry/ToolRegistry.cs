using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Audit;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>The user's answer to an approval request, as the next chat request carries it.</summary>
public sealed record ApprovalAnswer(string ToolCallId, ApprovalTicket? Ticket, bool Denied = false);

/// <summary>
/// Every tool (<see cref="ToolCatalog"/>'s data joined with its <see cref="IToolHandler"/>), what a caller may see of
/// them, and the one execution pipeline (as the reference's <c>#executeTool</c>):
/// object input → JSON-parse stringified <c>data</c>/<c>keys</c>/<c>query</c>/<c>headers</c> → strict validation →
/// delete guard (MCP) → approval (chat) → handler → deep-link <c>url</c> → audit.
/// The root tools <c>search</c> and <c>execute</c> are served here; <c>schema</c> is an ordinary handler exposed at the root.
/// </summary>
public sealed class ToolRegistry
{
    public const string Search = "search", Execute = "execute";
    private static readonly HashSet<string> LinkedActions = ["create", "update", "read", "import"];

    private readonly Dictionary<string, ToolManifest> _tools;
    private readonly Dictionary<string, IToolHandler> _handlers;
    private readonly ToolSearchIndex _index;
    private readonly IPermissionSource _permissions;
    private readonly ItemsReader _reader;
    private readonly ToolApprovals _approvals;
    private readonly IToolCallAudit? _audit;
    private readonly ILogger<ToolRegistry> _logger;
    private readonly string _adminUrl;

    public ToolRegistry(IEnumerable<IToolHandler> handlers, IPermissionSource permissions, ItemsReader reader, ToolApprovals approvals,
        IConfiguration configuration, ILogger<ToolRegistry> logger, IToolCallAudit? audit = null)
        : this(ToolCatalog.Load(), handlers, permissions, reader, approvals, configuration, logger, audit) { }

    public ToolRegistry(IReadOnlyList<ToolManifest> manifests, IEnumerable<IToolHandler> handlers, IPermissionSource permissions, ItemsReader reader,
        ToolApprovals approvals, IConfiguration configuration, ILogger<ToolRegistry> logger, IToolCallAudit? audit = null)
    {
        _tools = manifests.ToDictionary(m => m.Name);
        _handlers = handlers.ToDictionary(h => h.Name);
        foreach (var name in _tools.Keys.Where(n => n is not (Search or Execute) && !_handlers.ContainsKey(n)))
            throw new InvalidOperationException($"The tool \"{name}\" has data (AssistantTools/{name}/tool.json) but no IToolHandler.");
        foreach (var name in _handlers.Keys.Where(n => !_tools.ContainsKey(n)))
            throw new InvalidOperationException($"The tool handler \"{name}\" has no AssistantTools/{name}/tool.json.");
        _index = new ToolSearchIndex(_tools.Values);
        (_permissions, _reader, _approvals, _audit, _logger) = (permissions, reader, approvals, audit, logger);
        _adminUrl = (configuration["PublicUrl"] ?? "").TrimEnd('/') + "/admin/";
    }

    public IReadOnlyCollection<ToolManifest> All => _tools.Values;

    /// <summary>
    /// Whether <paramref name="caller"/> may see <paramref name="tool"/> in <paramref name="scope"/>: root tools always;
    /// others only when the request named them (or the scope names none, as MCP), never when <c>disabled</c>, admin-only
    /// ones for admins only, and <c>system-prompt</c> only when enabled.
    /// </summary>
    public bool IsVisible(ToolManifest tool, CallerIdentity? caller, ToolScope scope)
    {
        if (tool.Root) return true;
        if (scope.Names is { } names && !names.Contains(tool.Name)) return false;
        if (scope.Approval(tool.Name) == ApprovalModes.Disabled) return false;
        if (tool.Admin && caller?.Admin != true) return false;
        return tool.Name != "system-prompt" || scope.SystemPromptEnabled;
    }

    /// <summary>The visible tools, root ones included, sorted by name (a cache-stable prefix for the provider).</summary>
    public IEnumerable<ToolManifest> Visible(CallerIdentity? caller, ToolScope scope) =>
        _tools.Values.Where(t => IsVisible(t, caller, scope)).OrderBy(t => t.Name, StringComparer.Ordinal);

    public IEnumerable<ToolManifest> Roots => _tools.Values.Where(t => t.Root).OrderBy(t => t.Name, StringComparer.Ordinal);

    /// <summary>A root tool as the model calls it: <c>search</c>, <c>execute</c> (with the user's approval, if any) or <c>schema</c>.</summary>
    public async Task<ToolOutcome> CallRootAsync(string name, JsonNode? input, CallerIdentity? caller, ToolScope scope,
        ApprovalAnswer? approval, CancellationToken ct)
    {
        switch (name)
        {
            case Search:
                return SearchTools(input, caller, scope);
            case Execute:
                if (input is not JsonObject call || call["name"] is not JsonValue n || !n.TryGetValue<string>(out var inner) || inner.Length == 0)
                    return Fail(Execute, "INVALID_PAYLOAD", "execute takes {\"name\": \"<tool>\", \"input\": {…}}; \"name\" is required", true, Details(Execute));
                var innerInput = call["input"]?.DeepClone() ?? new JsonObject();
                if (innerInput is JsonValue s && s.TryGetValue<string>(out var text))
                {
                    try { innerInput = JsonNode.Parse(text) ?? new JsonObject(); }
                    catch (JsonException) { return Fail(inner, "INVALID_PAYLOAD", "\"input\" is a string that is not valid JSON; send an object", true, Details(inner)); }
                }
                if (_tools.TryGetValue(inner, out var tool) && tool.Root)
                    return Fail(inner, "INVALID_PAYLOAD", $"\"{inner}\" is a root tool: call it directly, not through execute", true, null);
                return await ExecuteAsync(inner, innerInput, caller, scope, approval, ct);
            default:
                if (_tools.TryGetValue(name, out var root) && root.Root) return await ExecuteAsync(name, input, caller, scope, null, ct);
                return Fail(name, "UNKNOWN_META_TOOL", $"\"{name}\" is not a tool you can call: use search, execute or schema", false, null);
        }
    }

    /// <summary>Runs any visible tool through the whole pipeline (execute's inner call, MCP's direct calls).</summary>
    public async Task<ToolOutcome> ExecuteAsync(string name, JsonNode? input, CallerIdentity? caller, ToolScope scope,
        ApprovalAnswer? approval, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = await RunAsync(name, input, caller, scope, approval, ct);
        Audit(caller, scope, name, input as JsonObject, outcome, started);
        return outcome;
    }

    private async Task<ToolOutcome> RunAsync(string name, JsonNode? input, CallerIdentity? caller, ToolScope scope, ApprovalAnswer? approval, CancellationToken ct)
    {
        if (!_tools.TryGetValue(name, out var tool) || !IsVisible(tool, caller, scope) || tool.Name is Search or Execute)
            return Fail(name, "UNKNOWN_TOOL", $"There is no tool named \"{name}\" available to you", true,
                new JsonObject { ["tool"] = Search, ["input"] = new JsonObject { ["query"] = name } });
        if (input is not JsonObject arguments)
            return Fail(name, "INVALID_PAYLOAD", $"The input of {name} must be a JSON object", true, Details(name));
        arguments = (JsonObject)arguments.DeepClone();
        if ((ToolValidation.Coerce(arguments) ?? ToolValidation.Validate(tool, arguments)) is { } problem)
            return Fail(name, "INVALID_PAYLOAD", problem, true, Details(name));
        var action = arguments["action"] is JsonValue a && a.TryGetValue<string>(out var act) ? act : null;
        if (!scope.AllowDeletes && action == "delete")
            return Fail(name, "INVALID_PAYLOAD", "Delete actions are disabled", false, null);

        // a call the user denied never runs, whether or not it needed the approval
        if (approval?.Denied == true)
            return new ToolOutcome(null, null, new ToolError("APPROVAL_DENIED", $"The user denied this {name} call. Do not retry it; ask what they want instead.", false, null), null)
                { Outcome = "denied" };
        if (scope.Surface == ToolSurface.Chat && !tool.IsReadOnly(arguments) && scope.Approval(name) != ApprovalModes.Always)
        {
            var userId = caller?.UserId ?? "";
            if (approval is null) return Fail(name, "APPROVAL_REQUIRED", $"{name} needs the user's approval", false, null);
            if (approval.Ticket is null)
                return new ToolOutcome(null, null, null, _approvals.Issue(userId, approval.ToolCallId, name, arguments)) { Outcome = "approval_requested" };
            if (await _approvals.RedeemAsync(approval.Ticket, userId, approval.ToolCallId, name, arguments, ct) is { } refused)
                return Fail(name, "APPROVAL_INVALID", $"The approval for this {name} call was not honoured: {refused}. Nothing ran.", false, null);
        }

        var handler = _handlers[name];
        try
        {
            var permissions = await _permissions.ForAsync(caller, ct);
            var writer = new WriteCaller(permissions, _reader.Context(caller?.UserId, caller?.RoleId, permissions.PolicyIds),
                Ip: null, UserAgent: scope.Surface == ToolSurface.Chat ? "AiAssistant chat" : "AiAssistant MCP", Origin: null);
            var result = await handler.HandleAsync(new ToolCall(arguments, new ToolCaller(caller, permissions, writer), scope, ct));
            return new ToolOutcome(result, Link(handler, action, arguments, result), null, null);
        }
        catch (ToolException e)
        {
            return Fail(name, e.Code, e.Message, e.Recoverable, e.Next ?? (e.Recoverable ? Details(name) : null));
        }
        catch (DirectusException e)
        {
            // A 400 is the model's to fix (a bad field, a duplicate, a failed validation); anything else is not.
            var recoverable = e.Status == StatusCodes.Status400BadRequest;
            return Fail(name, e.Code, e.Message, recoverable, recoverable ? Details(name) : null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _logger.LogError("Tool {Tool} failed with {ExceptionType}: {StackTrace}", name, e.GetType().Name, e.StackTrace);
            return Fail(name, "TOOL_EXECUTION_FAILED", $"{name} failed unexpectedly; the error was logged", false, null);
        }
    }

    /// <summary><c>search</c>: exactly one of <c>query</c> (BM25 ranking) or <c>names</c> (each tool's types and instructions).</summary>
    private ToolOutcome SearchTools(JsonNode? input, CallerIdentity? caller, ToolScope scope)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = SearchCore(input, caller, scope);
        Audit(caller, scope, Search, input as JsonObject, outcome, started);
        return outcome;
    }

    private ToolOutcome SearchCore(JsonNode? input, CallerIdentity? caller, ToolScope scope)
    {
        var arguments = input as JsonObject ?? [];
        var query = arguments["query"] is JsonValue q && q.TryGetValue<string>(out var text) ? text : null;
        var names = arguments["names"] as JsonArray;
        if ((query is null) == (names is null) || (input is not null and not JsonObject))
            return Fail(Search, "INVALID_PAYLOAD", "Provide exactly one of \"query\" or \"names\"", true, null);
        bool Visible(ToolManifest t) => !t.Root && IsVisible(t, caller, scope);
        if (names is not null)
        {
            var results = new JsonArray();
            var unknown = new JsonArray();
            foreach (var entry in names)
            {
                var wanted = entry is JsonValue v && v.TryGetValue<string>(out var s) ? s : entry?.ToJsonString() ?? "null";
                if (_tools.TryGetValue(wanted, out var tool) && Visible(tool)) results.Add(Details(tool));
                else unknown.Add(wanted);
            }
            var reply = new JsonObject { ["results"] = results };
            if (unknown.Count > 0) reply["unknownNames"] = unknown;
            return new ToolOutcome(reply, null, null, null);
        }
        var available = new JsonArray(_tools.Values.Where(Visible).OrderBy(t => t.Name, StringComparer.Ordinal).Select(t => (JsonNode)t.Name).ToArray());
        var found = string.IsNullOrWhiteSpace(query)
            ? _tools.Values.Where(Visible).OrderBy(t => t.Name, StringComparer.Ordinal).ToList()
            : _index.Search(query!, Visible);
        var body = new JsonObject
        {
            ["results"] = new JsonArray(found.Select(t => (JsonNode)new JsonObject { ["name"] = t.Name, ["description"] = t.Description }).ToArray()),
        };
        if (string.IsNullOrWhiteSpace(query)) body["availableToolNames"] = available;
        else if (found.Count == 0)
        {
            body["availableToolNames"] = available;
            body["hint"] = $"No tools matched. Available tools: {string.Join(", ", available.Select(a => a!.GetValue<string>()))}";
        }
        return new ToolOutcome(body, null, null, null);
    }

    /// <summary>What <c>search({names})</c> tells of one tool: its types as TypeScript-like strings and its instructions.</summary>
    public static JsonObject Details(ToolManifest tool)
    {
        var details = new JsonObject
        {
            ["name"] = tool.Name,
            ["description"] = tool.Description,
            ["inputType"] = TypeStrings.Interface("Input", tool.InputSchema),
        };
        if (tool.OutputSchema is { } output) details["outputType"] = TypeStrings.Interface("Output", output);
        if (tool.Instructions.Length > 0) details["instructions"] = tool.Instructions;
        return details;
    }

    private string? Link(IToolHandler handler, string? action, JsonObject input, JsonNode? result)
    {
        if (action is null || !LinkedActions.Contains(action)) return null;
        var record = result switch
        {
            JsonObject o => o,
            JsonArray { Count: 1 } a => a[0] as JsonObject,
            _ => null,
        };
        return record is not null && handler.Link(input, record) is { } path ? _adminUrl + path.TrimStart('/') : null;
    }

    private static JsonObject? Details(string tool) =>
        tool is Search or Execute ? null : new JsonObject { ["tool"] = Search, ["input"] = new JsonObject { ["names"] = new JsonArray(tool) } };

    private static ToolOutcome Fail(string tool, string code, string message, bool recoverable, JsonObject? next) =>
        new(null, null, new ToolError(code, message, recoverable, next), null);

    private void Audit(CallerIdentity? caller, ToolScope scope, string tool, JsonObject? input, ToolOutcome outcome, long started)
    {
        if (_audit is null) return;
        var action = input?["action"] is JsonValue a && a.TryGetValue<string>(out var s) ? s : null;
        var collection = input?["collection"] is JsonValue c && c.TryGetValue<string>(out var col) ? col : null;
        var keys = input?["keys"] is JsonArray k ? k.Take(100).Select(x => x is JsonValue v && v.TryGetValue<string>(out var str) ? str : x?.ToJsonString() ?? "null").ToList()
            : input?["key"] is JsonValue one ? [one.ToJsonString().Trim('"')] : null;
        _audit.Record(new ToolCallRecord(DateTimeOffset.UtcNow, caller?.UserId, scope.Surface == ToolSurface.Chat ? "chat" : "mcp", tool, action,
            collection, keys, outcome.Outcome, outcome.Error?.Code, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
    }
}

public sealed record ToolError(string Code, string Message, bool Recoverable, JsonObject? Next);

/// <summary>
/// A call's end: a result (with a deep link), an error, or — chat only — an approval request (nothing ran). As the
/// model reads it: <c>{ok:true, result, url?}</c> or <c>{ok:false, error:{code, message, recoverable, next?}}</c>.
/// </summary>
public sealed record ToolOutcome(JsonNode? Result, string? Url, ToolError? Error, ApprovalTicket? ApprovalRequired)
{
    /// <summary>For the audit: ok, error, approval_requested, denied.</summary>
    public string Outcome { get; init; } = Error is null ? "ok" : "error";

    public bool IsError => Error is not null;

    public JsonObject ToEnvelope()
    {
        if (Error is { } e)
        {
            var error = new JsonObject { ["code"] = e.Code, ["message"] = e.Message, ["recoverable"] = e.Recoverable };
            if (e.Next is not null) error["next"] = e.Next.DeepClone();
            return new JsonObject { ["ok"] = false, ["error"] = error };
        }
        var envelope = new JsonObject { ["ok"] = true, ["result"] = Result?.DeepClone() };
        if (Url is not null) envelope["url"] = Url;
        return envelope;
    }
}
