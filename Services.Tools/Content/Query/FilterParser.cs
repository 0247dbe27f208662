using System.Text.Json;
using System.Text.Json.Nodes;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// Reads Directus's filter JSON into a <see cref="Filter"/> tree. Operands arrive as JSON values or, from a query
/// string's bracket form, as text; list and boolean operands are normalised here so the compiler sees one shape.
/// </summary>
public static class FilterParser
{
    private const int MaxDepth = 20;

    /// <summary>The filter in <paramref name="node"/>; <paramref name="where"/> names it in error messages (<c>filter</c>, <c>deep[comments][_filter]</c>).</summary>
    public static Filter Parse(JsonNode? node, string where = "filter") => ParseObject(node, where, 0);

    private static Filter ParseObject(JsonNode? node, string where, int depth)
    {
        if (depth > MaxDepth) throw QueryErrors.Invalid($"\"{where}\" nests deeper than {MaxDepth} levels.");
        if (node is not JsonObject obj) throw QueryErrors.Invalid($"\"{where}\" must be an object such as {{\"title\":{{\"_eq\":\"x\"}}}}.");
        var parts = obj.Select(kv => ParseEntry(kv.Key, kv.Value, where, depth)).ToList();
        return parts.Count == 1 ? parts[0] : new AndFilter(parts);
    }

    private static Filter ParseEntry(string key, JsonNode? value, string where, int depth)
    {
        if (key is "_and" or "_or")
        {
            if (value is not JsonArray list) throw QueryErrors.Invalid($"\"{key}\" in \"{where}\" must be a list of filters.");
            var items = list.Select(item => ParseObject(item, where, depth + 1)).ToList();
            return key == "_and" ? new AndFilter(items) : new OrFilter(items);
        }
        if (key.StartsWith('_'))
            throw QueryErrors.Invalid($"\"{key}\" in \"{where}\" is not a logical operator: use _and or _or, or put a field name here.");
        if (value is not JsonObject condition) return new FieldCondition(key, FilterOperator.Eq, value?.DeepClone());
        if (condition.Count == 0) throw QueryErrors.Invalid($"The condition on \"{key}\" in \"{where}\" is empty.");

        var operators = condition.Count(c => c.Key.StartsWith('_'));
        if (operators == 0) return new RelationalCondition(key, ParseObject(condition, where, depth + 1));
        if (operators != condition.Count)
            throw QueryErrors.Invalid($"The condition on \"{key}\" in \"{where}\" mixes operators and fields.");

        var conditions = condition.Select(c => c.Key switch
        {
            "_some" => new QuantifiedCondition(key, true, ParseObject(c.Value, where, depth + 1)),
            "_none" => new QuantifiedCondition(key, false, ParseObject(c.Value, where, depth + 1)),
            _ => Condition(key, c.Key, c.Value, where),
        }).ToList();
        return conditions.Count == 1 ? conditions[0] : new AndFilter(conditions);
    }

    private static Filter Condition(string field, string name, JsonNode? operand, string where)
    {
        var op = FilterOperators.Parse(name)
            ?? throw QueryErrors.Invalid($"Unknown filter operator \"{name}\" on \"{field}\" in \"{where}\". Use one of {FilterOperators.All}, _some, _none.");
        var normalised = op switch
        {
            FilterOperator.Null or FilterOperator.Nnull or FilterOperator.Empty or FilterOperator.Nempty => Boolean(operand, field, name),
            FilterOperator.In or FilterOperator.Nin => List(operand, field, name, null),
            FilterOperator.Between or FilterOperator.Nbetween => List(operand, field, name, 2),
            _ => operand is JsonObject or JsonArray
                ? throw QueryErrors.Invalid($"\"{name}\" on \"{field}\" needs a single value, not {(operand is JsonArray ? "a list" : "an object")}.")
                : operand?.DeepClone(),
        };
        return new FieldCondition(field, op, normalised);
    }

    private static JsonNode Boolean(JsonNode? operand, string field, string name)
    {
        if (operand is JsonValue v)
        {
            if (v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.DeepClone();
            if (v.GetValueKind() == JsonValueKind.String)
                switch (v.GetValue<string>())
                {
                    case "true" or "1": return JsonValue.Create(true);
                    case "false" or "0": return JsonValue.Create(false);
                }
        }
        throw QueryErrors.Invalid($"\"{name}\" on \"{field}\" needs true or false.");
    }

    /// <summary>A JSON list, or Directus's comma-separated text (<c>_in=1,2,3</c>).</summary>
    private static JsonArray List(JsonNode? operand, string field, string name, int? count)
    {
        var list = operand switch
        {
            JsonArray a => new JsonArray(a.Select(i => i?.DeepClone()).ToArray()),
            JsonValue v when v.GetValueKind() == JsonValueKind.String =>
                new JsonArray(v.GetValue<string>().Split(',').Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
            JsonValue v when count is null => new JsonArray(v.DeepClone()),
            _ => null,
        };
        if (list is null || list.Any(i => i is JsonObject or JsonArray))
            throw QueryErrors.Invalid($"\"{name}\" on \"{field}\" needs a list of values.");
        if (count is { } n && list.Count != n)
            throw QueryErrors.Invalid($"\"{name}\" on \"{field}\" needs exactly {n} values, as [low, high] or \"low,high\".");
        return list;
    }
}
