using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Settings.Access;

/// <summary>What a permission row may hold: a known action, a field list, and filters in Directus's syntax.</summary>
public static class PermissionRules
{
    public static readonly string[] Actions = ["create", "read", "update", "delete"];

    private static readonly HashSet<string> Operators =
    [
        "_eq", "_neq", "_lt", "_lte", "_gt", "_gte", "_in", "_nin", "_null", "_nnull", "_contains", "_ncontains",
        "_icontains", "_nicontains", "_starts_with", "_nstarts_with", "_istarts_with", "_nistarts_with", "_ends_with",
        "_nends_with", "_iends_with", "_niends_with", "_between", "_nbetween", "_empty", "_nempty", "_intersects",
        "_nintersects", "_intersects_bbox", "_nintersects_bbox", "_regex", "_some", "_none",
    ];

    private static readonly string[] Variables = ["$CURRENT_USER", "$CURRENT_ROLE", "$CURRENT_ROLES", "$CURRENT_POLICIES", "$NOW"];

    /// <summary>Why <paramref name="filter"/> is not a Directus filter, or null when it is.</summary>
    public static string? FilterProblem(JsonNode? filter, int depth = 0)
    {
        if (depth > 20) return "nests too deeply";
        if (filter is not JsonObject obj) return "must be an object";
        foreach (var (key, value) in obj)
        {
            if (key is "_and" or "_or")
            {
                if (value is not JsonArray list) return $"\"{key}\" must be a list of filters";
                foreach (var item in list)
                    if (FilterProblem(item, depth + 1) is { } p) return p;
                continue;
            }
            if (key.StartsWith('_')) return $"\"{key}\" is not a logical operator (_and, _or) and fields do not start with _";
            if (value is not JsonObject condition || condition.Count == 0) return $"the condition on \"{key}\" must be an object of operators";
            var operators = condition.Where(c => c.Key.StartsWith('_')).ToList();
            if (operators.Count == 0)
            {
                // A relational filter: {"author": {"name": {"_eq": …}}}
                if (FilterProblem(condition, depth + 1) is { } p) return p;
                continue;
            }
            if (operators.Count != condition.Count) return $"the condition on \"{key}\" mixes operators and fields";
            foreach (var (op, operand) in condition)
            {
                if (op is "_some" or "_none")
                {
                    if (FilterProblem(operand, depth + 1) is { } p) return p;
                    continue;
                }
                if (!Operators.Contains(op)) return $"\"{op}\" is not a filter operator";
                if (op is "_in" or "_nin" && operand is not JsonArray && !IsString(operand)) return $"\"{op}\" needs a list";
                if (op is "_between" or "_nbetween" && !(operand is JsonArray { Count: 2 } || IsString(operand))) return $"\"{op}\" needs two values";
                if (op is "_null" or "_nnull" or "_empty" or "_nempty" && !(operand is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False))
                    return $"\"{op}\" needs true or false";
                if (VariableProblem(operand) is { } v) return v;
            }
        }
        return null;
    }

    private static bool IsString(JsonNode? n) => n is JsonValue v && v.GetValueKind() == JsonValueKind.String;

    private static string? VariableProblem(JsonNode? operand)
    {
        if (operand is JsonArray list) return list.Select(VariableProblem).FirstOrDefault(p => p is not null);
        if (!IsString(operand)) return null;
        var s = operand!.GetValue<string>();
        if (!s.StartsWith('$')) return null;
        return Variables.Any(v => s == v || s.StartsWith(v + ".", StringComparison.Ordinal) || (v == "$NOW" && s.StartsWith("$NOW(", StringComparison.Ordinal)))
            ? null : $"\"{s}\" is not a dynamic variable ($CURRENT_USER, $CURRENT_ROLE, $CURRENT_ROLES, $CURRENT_POLICIES, $NOW)";
    }

    /// <summary>A validated permission row from a request body (fields named as in the error, with <paramref name="prefix"/>).</summary>
    public static PermissionInput Parse(JsonObject body, string prefix = "", bool partial = false)
    {
        string Name(string f) => prefix + f;
        string? collection = null, action = null;
        if (!partial || body.ContainsKey("collection"))
        {
            collection = body["collection"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>().Trim() : null;
            if (string.IsNullOrEmpty(collection) || collection.Length > 64)
                throw DirectusException.InvalidPayload($"\"{Name("collection")}\" must be a collection name", Name("collection"));
        }
        if (!partial || body.ContainsKey("action"))
        {
            action = body["action"] is JsonValue a && a.GetValueKind() == JsonValueKind.String ? a.GetValue<string>() : null;
            if (action is null || !Actions.Contains(action))
                throw DirectusException.InvalidPayload($"\"{Name("action")}\" must be one of create, read, update, delete", Name("action"));
        }
        string[]? fields = null;
        var fieldsGiven = body.ContainsKey("fields");
        switch (body["fields"])
        {
            case null: break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                fields = v.GetValue<string>().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                break;
            case JsonArray list when list.All(IsString):
                fields = list.Select(x => x!.GetValue<string>().Trim()).ToArray();
                break;
            default:
                throw DirectusException.InvalidPayload($"\"{Name("fields")}\" must be a list of field names or \"*\"", Name("fields"));
        }
        if (fields is not null && fields.Any(f => f.Length == 0 || f.Length > 64))
            throw DirectusException.InvalidPayload($"\"{Name("fields")}\" must be a list of field names or \"*\"", Name("fields"));
        foreach (var f in new[] { "permissions", "validation" })
            if (body[f] is { } filter && FilterProblem(filter) is { } problem)
                throw DirectusException.InvalidPayload($"\"{Name(f)}\" is not a valid filter: {problem}", Name(f));
        if (body["presets"] is { } presets and not JsonObject)
            throw DirectusException.InvalidPayload($"\"{Name("presets")}\" must be an object of field values", Name("presets"));
        return new PermissionInput(collection, action, fields, fieldsGiven, body["permissions"]?.DeepClone(), body.ContainsKey("permissions"),
            body["validation"]?.DeepClone(), body.ContainsKey("validation"), body["presets"]?.DeepClone(), body.ContainsKey("presets"));
    }
}

public sealed record PermissionInput(string? Collection, string? Action, string[]? Fields, bool FieldsGiven,
    JsonNode? Permissions, bool PermissionsGiven, JsonNode? Validation, bool ValidationGiven, JsonNode? Presets, bool PresetsGiven);
