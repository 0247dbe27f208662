using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using Cronos;
using static AiAssistant.Services.Tools.Flows.FlowJson;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// What a flow must be before it is written: every operation of a known type with options that fit it, trigger
/// options that fit the trigger (a schedule's cron parses), and a graph that ends — links only within the flow, each
/// operation the successor of at most one, no cycle. A failure is 400 naming the field; the store writes nothing.
/// </summary>
public static class FlowValidation
{
    private enum Kind { Text, Number, Boolean, Object, Any, Filter, List, Headers, Permissions, Id, Script }

    private sealed record Option(string Name, Kind Kind, bool Required = false, string[]? Allowed = null);

    private static readonly Option[] ItemOptions =
        [new("collection", Kind.Text, Required: true), new("permissions", Kind.Permissions), new("emitEvents", Kind.Boolean)];

    /// <summary>The operation types this engine runs, and the options each takes (Directus's names).</summary>
    private static readonly Dictionary<string, Option[]> Types = new(StringComparer.Ordinal)
    {
        ["condition"] = [new("filter", Kind.Filter, Required: true)],
        ["item-create"] = [.. ItemOptions, new("payload", Kind.Any)],
        ["item-read"] = [.. ItemOptions, new("key", Kind.Any), new("query", Kind.Object)],
        ["item-update"] = [.. ItemOptions, new("key", Kind.Any), new("query", Kind.Object), new("payload", Kind.Any)],
        ["item-delete"] = [.. ItemOptions, new("key", Kind.Any), new("query", Kind.Object)],
        ["log"] = [new("message", Kind.Any)],
        ["transform"] = [new("json", Kind.Any, Required: true)],
        ["throw-error"] = [new("code", Kind.Text), new("status", Kind.Number), new("message", Kind.Text)],
        ["sleep"] = [new("milliseconds", Kind.Number, Required: true)],
        ["request"] = [new("url", Kind.Text, Required: true), new("method", Kind.Text, Allowed: ["GET", "POST", "PUT", "PATCH", "DELETE"]),
            new("headers", Kind.Headers), new("body", Kind.Any)],
        ["trigger"] = [new("flow", Kind.Id, Required: true), new("payload", Kind.Any),
            new("iterationMode", Kind.Text, Allowed: ["serial", "batch", "parallel"]), new("batchSize", Kind.Number)],
        ["exec"] = [new("code", Kind.Script, Required: true)],
        ["json-web-token"] = [new("operation", Kind.Text, Required: true, Allowed: ["sign", "verify", "decode"]), new("payload", Kind.Any),
            new("token", Kind.Text), new("secret", Kind.Text), new("options", Kind.Any)],
        ["notification"] = [new("recipient", Kind.Any, Required: true), new("subject", Kind.Text, Required: true), new("message", Kind.Any),
            new("collection", Kind.Text), new("item", Kind.Any)],
    };

    /// <summary>Directus types this engine does not run yet: named so the message says so rather than "unknown".</summary>
    private static readonly string[] NotYet = ["mail"];

    public static readonly string[] Roots = ["$trigger", "$last", "$accountability", "$env"];

    public static IEnumerable<string> KnownTypes => Types.Keys;

    public static void Operation(OperationRecord operation, string prefix)
    {
        if (operation.Key.StartsWith('$'))
            throw Invalid(prefix + "key", $"\"{prefix}key\" must not start with \"$\": $trigger, $last, $accountability and $env are the data chain's own");
        if (!Types.TryGetValue(operation.Type, out var options))
            throw Invalid(prefix + "type", NotYet.Contains(operation.Type)
                ? $"Operation type \"{operation.Type}\" is not available here yet; use one of {string.Join(", ", Types.Keys)}"
                : $"Unknown operation type \"{operation.Type}\"; use one of {string.Join(", ", Types.Keys)}");
        Options(operation.Options, options, prefix + "options", $"a \"{operation.Type}\" operation");
    }

    public static void Trigger(FlowRecord flow)
    {
        var options = flow.Trigger switch
        {
            "manual" => new Option[]
            {
                new("collections", Kind.List), new("fields", Kind.Any), new("location", Kind.Text, Allowed: ["item", "collection", "both"]),
                new("requireSelection", Kind.Boolean), new("requireConfirmation", Kind.Boolean), new("confirmationDescription", Kind.Text),
                new("async", Kind.Boolean),
            },
            "webhook" => [new("method", Kind.Text, Allowed: ["GET", "POST"]), new("async", Kind.Boolean), new("return", Kind.Text), new("cacheEnabled", Kind.Boolean)],
            "event" => [new("type", Kind.Text, Required: true, Allowed: ["filter", "action"]), new("scope", Kind.List, Required: true),
                new("collections", Kind.List), new("return", Kind.Text)],
            "schedule" => [new("cron", Kind.Text, Required: true)],
            _ => [new Option("return", Kind.Text)],
        };
        Options(flow.Options, options, "options", $"a \"{flow.Trigger}\" trigger");
        if (flow.Trigger == "schedule") Cron(flow.Options["cron"]!.GetValue<string>());
        if (flow.Trigger == "event" && flow.Options["scope"] is JsonArray scope)
            foreach (var s in scope)
                if (s?.GetValue<string>() is not ("items.create" or "items.update" or "items.delete"))
                    throw Invalid("options.scope", $"\"options.scope\" takes items.create, items.update and items.delete, not \"{s}\"");
    }

    /// <summary>Five fields, or six with seconds first, as Directus's scheduler reads them.</summary>
    public static CronExpression Cron(string cron)
    {
        try
        {
            return CronExpression.Parse(cron.Trim(), cron.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw Invalid("options.cron", $"\"options.cron\" is not a cron expression: {e.Message}");
        }
    }

    /// <summary>
    /// The links of the whole flow after a change: each one to an operation of this flow, each operation the
    /// successor of at most one, keys unique, no cycle, the first operation one of its own, and every reference of a
    /// <c>transform</c> template to the data chain or an operation's key. <paramref name="name"/> names an operation's fields.
    /// </summary>
    public static void Graph(FlowRecord flow, IReadOnlyList<OperationRecord> operations, Func<OperationRecord, string> name)
    {
        var byId = operations.ToDictionary(o => o.Id);
        if (flow.Operation is { } first && !byId.ContainsKey(first))
            throw Invalid("operation", "\"operation\" must be the id of one of this flow's operations");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var successorOf = new Dictionary<Guid, OperationRecord>();
        foreach (var operation in operations)
        {
            if (!keys.Add(operation.Key))
                throw Invalid(name(operation) + "key", $"Another operation of this flow already has the key \"{operation.Key}\"");
            foreach (var (field, next) in new[] { ("resolve", operation.Resolve), ("reject", operation.Reject) })
            {
                if (next is not { } id) continue;
                if (!byId.ContainsKey(id))
                    throw Invalid(name(operation) + field, $"\"{field}\" of \"{operation.Key}\" must be an operation of the same flow");
                if (id == operation.Id || successorOf.TryGetValue(id, out var other) && other.Id != operation.Id)
                    throw Invalid(name(operation) + field, $"\"{field}\" of \"{operation.Key}\" leads to an operation another link already leads to");
                successorOf[id] = operation;
            }
        }
        foreach (var start in operations)
        {
            var seen = new HashSet<Guid>();
            if (Cycles(start, byId, seen))
                throw Invalid(name(start) + "resolve", $"The operations from \"{start.Key}\" form a cycle: a flow's operations must lead to an end");
        }
        foreach (var operation in operations.Where(o => o.Type == "transform"))
            foreach (var reference in FlowTemplates.References(operation.Options["json"]))
            {
                var root = reference.Split('.', '[')[0];
                if (!Roots.Contains(root) && !keys.Contains(root))
                    throw Invalid(name(operation) + "options.json",
                        $"The template \"{{{{ {reference} }}}}\" of \"{operation.Key}\" references nothing: start it with {string.Join(", ", Roots)} or an operation's key");
            }
    }

    private static bool Cycles(OperationRecord operation, Dictionary<Guid, OperationRecord> byId, HashSet<Guid> path)
    {
        if (!path.Add(operation.Id)) return true;
        foreach (var next in new[] { operation.Resolve, operation.Reject })
            if (next is { } id && byId.TryGetValue(id, out var successor) && Cycles(successor, byId, path)) return true;
        path.Remove(operation.Id);
        return false;
    }

    private static void Options(JsonObject values, Option[] options, string where, string what)
    {
        foreach (var (name, value) in values)
        {
            var option = options.FirstOrDefault(o => o.Name == name)
                ?? throw Invalid($"{where}.{name}", $"\"{where}.{name}\" is not an option of {what}; it takes {string.Join(", ", options.Select(o => o.Name))}");
            if (value is null || FlowTemplates.IsTemplate(value) && option.Kind is not (Kind.Filter or Kind.Object)) continue;
            if (!Fits(option, value))
                throw Invalid($"{where}.{name}", $"\"{where}.{name}\" must be {Describe(option)}");
            if (option.Kind == Kind.Script && ExecOperation.SyntaxError(value.GetValue<string>()) is { } error)
                throw Invalid($"{where}.{name}", $"\"{where}.{name}\" is not JavaScript that parses: {error}");
        }
        foreach (var option in options.Where(o => o.Required && values[o.Name] is null))
            throw Invalid($"{where}.{option.Name}", $"\"{where}.{option.Name}\" is required for {what}");
    }

    private static bool Fits(Option option, JsonNode value) => option.Kind switch
    {
        Kind.Text => value.GetValueKind() == JsonValueKind.String && (option.Allowed is null || option.Allowed.Contains(value.GetValue<string>())),
        Kind.Script => value.GetValueKind() == JsonValueKind.String,
        Kind.Number => value.GetValueKind() == JsonValueKind.Number,
        Kind.Boolean => value.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        Kind.Object => value is JsonObject,
        Kind.List => value is JsonArray list && list.All(i => i?.GetValueKind() == JsonValueKind.String),
        Kind.Headers => value is JsonArray headers && headers.All(h => h is JsonObject { Count: 2 } o
            && o["header"]?.GetValueKind() == JsonValueKind.String && o["value"]?.GetValueKind() == JsonValueKind.String),
        Kind.Permissions => value.GetValueKind() == JsonValueKind.String && value.GetValue<string>() is "$trigger" or "$full" or "$public",
        Kind.Id => value.GetValueKind() == JsonValueKind.String && Guid.TryParse(value.GetValue<string>(), out _),
        Kind.Filter => value is JsonObject && ParsesAsFilter(value),
        _ => true,
    };

    private static bool ParsesAsFilter(JsonNode value)
    {
        try
        {
            FilterParser.Parse(value, "options.filter");
            return true;
        }
        catch (DirectusException)
        {
            return false;
        }
    }

    private static string Describe(Option option) => option.Kind switch
    {
        Kind.Text when option.Allowed is { } allowed => $"one of {string.Join(", ", allowed)}",
        Kind.Text => "a string",
        Kind.Script => "JavaScript text: module.exports = async function (data) { … }",
        Kind.Number => "a number",
        Kind.Boolean => "true or false",
        Kind.Object => "an object",
        Kind.List => "a list of strings",
        Kind.Headers => "a list of {\"header\": \"…\", \"value\": \"…\"}",
        Kind.Permissions => "$trigger (the trigger's user), $full (full access) or $public",
        Kind.Id => "a flow's id (a UUID)",
        Kind.Filter => "a filter such as {\"$trigger\":{\"body\":{\"status\":{\"_eq\":\"published\"}}}}",
        _ => "a value",
    };
}
