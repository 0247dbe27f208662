using System.Text;
using System.Text.Json.Nodes;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>
/// A JSON Schema as a TypeScript-like type, the form <c>search({names})</c> gives the model (as the reference's
/// <c>schema-to-type-string.ts</c>): <c>interface Input { action: "read" | "create"; keys?: (string | number)[]; }</c>,
/// with each property's description as a comment.
/// </summary>
public static class TypeStrings
{
    public static string Interface(string name, JsonObject schema)
    {
        var text = new StringBuilder();
        text.Append("interface ").Append(name).Append(' ');
        if (schema["properties"] is JsonObject) Object(text, schema, 0);
        else text.Append("{ value: ").Append(Type(schema, 1)).Append(" }");
        return text.ToString();
    }

    public static string Type(JsonNode? schema, int depth = 0)
    {
        if (schema is not JsonObject s) return schema is JsonValue v && v.TryGetValue<bool>(out var b) && !b ? "never" : "unknown";
        if (s["const"] is { } constant) return constant.ToJsonString();
        if (s["enum"] is JsonArray values) return string.Join(" | ", values.Select(v => v?.ToJsonString() ?? "null"));
        foreach (var combinator in new[] { "anyOf", "oneOf" })
            if (s[combinator] is JsonArray options) return string.Join(" | ", options.Select(o => Type(o, depth)).Distinct());
        if (s["allOf"] is JsonArray all) return string.Join(" & ", all.Select(o => Type(o, depth)));
        var types = s["type"] switch
        {
            JsonValue t when t.TryGetValue<string>(out var one) => [one],
            JsonArray many => many.Select(t => t!.GetValue<string>()).ToList(),
            _ => s["properties"] is JsonObject ? ["object"] : s["items"] is not null ? ["array"] : new List<string>(),
        };
        if (types.Count == 0) return "unknown";
        return string.Join(" | ", types.Select(t => t switch
        {
            "string" => "string",
            "number" or "integer" => "number",
            "boolean" => "boolean",
            "null" => "null",
            "array" => Array(s, depth),
            "object" => ObjectType(s, depth),
            _ => "unknown",
        }).Distinct());
    }

    private static string Array(JsonObject s, int depth)
    {
        var item = Type(s["items"], depth);
        return item.Contains(" | ") || item.Contains(" & ") ? $"({item})[]" : $"{item}[]";
    }

    private static string ObjectType(JsonObject s, int depth)
    {
        if (s["properties"] is JsonObject { Count: > 0 } && depth < 6)
        {
            var text = new StringBuilder();
            Object(text, s, depth);
            return text.ToString();
        }
        return s["additionalProperties"] is JsonObject values ? $"Record<string, {Type(values, depth)}>" : "Record<string, unknown>";
    }

    private static void Object(StringBuilder text, JsonObject s, int depth)
    {
        var required = s["required"] is JsonArray r ? r.Select(x => x!.GetValue<string>()).ToHashSet() : [];
        var indent = new string(' ', (depth + 1) * 2);
        text.Append("{\n");
        foreach (var (name, property) in (JsonObject)s["properties"]!)
        {
            text.Append(indent).Append(Identifier(name)).Append(required.Contains(name) ? ": " : "?: ").Append(Type(property, depth + 1)).Append(';');
            if (property?["description"] is JsonValue d && d.TryGetValue<string>(out var description))
                text.Append(" // ").Append(description.ReplaceLineEndings(" "));
            text.Append('\n');
        }
        text.Append(new string(' ', depth * 2)).Append('}');
    }

    private static string Identifier(string name) =>
        name.Length > 0 && name.All(c => char.IsLetterOrDigit(c) || c is '_' or '$') && !char.IsDigit(name[0]) ? name : $"\"{name}\"";
}
