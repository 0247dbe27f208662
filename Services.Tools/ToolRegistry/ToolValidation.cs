using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>
/// The pipeline's input steps: JSON-parse the values models often send as strings (<c>data</c>, <c>keys</c>,
/// <c>query</c>, <c>headers</c>), then check the input against the tool's strict schema for its action. Every failure is
/// a sentence the model can act on.
/// </summary>
public static class ToolValidation
{
    private static readonly string[] Coerced = ["data", "keys", "query", "headers"];
    private static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.List };

    /// <summary>Replaces stringified JSON in the coerced properties; a string that does not parse is an error.</summary>
    public static string? Coerce(JsonObject input)
    {
        foreach (var name in Coerced)
        {
            if (input[name] is not JsonValue value || !value.TryGetValue<string>(out var text)) continue;
            var trimmed = text.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] is not ('{' or '[' or '"')) continue;
            try
            {
                input[name] = JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                return $"\"{name}\" is a string that is not valid JSON ({e.Message.Split('.')[0]}); send it as a JSON value, not a string";
            }
        }
        return null;
    }

    /// <summary>The problems of <paramref name="input"/> under the tool's strict schema, or <c>null</c> when it is valid.</summary>
    public static string? Validate(ToolManifest tool, JsonObject input)
    {
        JsonSchema schema;
        if (!tool.HasActions) schema = tool.Validation[""];
        else
        {
            var actions = string.Join(", ", tool.Validation.Keys.Select(a => $"\"{a}\""));
            if (input["action"] is not JsonValue a || !a.TryGetValue<string>(out var action))
                return $"\"action\" is required: one of {actions}";
            if (!tool.Validation.TryGetValue(action, out schema!))
                return $"\"action\" must be one of {actions}, not \"{action}\"";
        }
        var result = schema.Evaluate(JsonSerializer.SerializeToElement(input), Options);
        if (result.IsValid) return null;
        var problems = new List<string>();
        foreach (var detail in result.Details ?? [])
        {
            if (detail.Errors is null) continue;
            var at = detail.InstanceLocation.ToString();
            foreach (var (keyword, message) in detail.Errors)
            {
                var text = detail.EvaluationPath.ToString().EndsWith("/additionalProperties", StringComparison.Ordinal) || keyword == "false"
                    ? $"\"{Path(at)}\" is not a parameter of {tool.Name}{(tool.HasActions ? $" with action \"{input["action"]}\"" : "")}"
                    : at.Length == 0 ? message : $"\"{Path(at)}\": {message}";
                if (!problems.Contains(text)) problems.Add(text);
            }
        }
        return problems.Count == 0 ? "The input does not match the tool's schema" : string.Join("; ", problems.Take(8));
    }

    /// <summary>A JSON pointer (<c>/data/0/title</c>) as the model would write it (<c>data[0].title</c>).</summary>
    private static string Path(string pointer)
    {
        var parts = pointer.Trim('/').Split('/');
        var text = new System.Text.StringBuilder();
        foreach (var part in parts)
            if (int.TryParse(part, out _)) text.Append('[').Append(part).Append(']');
            else text.Append(text.Length > 0 ? "." : "").Append(part.Replace("~1", "/").Replace("~0", "~"));
        return text.ToString();
    }
}
