using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// Directus's <c>fields</c>, <c>filter</c>, <c>sort</c>, <c>limit</c> and <c>offset</c> over rows already loaded (the
/// access tables are small). Filters take the same syntax permissions use, top-level fields only.
/// </summary>
internal static class DirectusQuery
{
    public static IEnumerable<JsonObject> Apply(IEnumerable<JsonObject> rows, IQueryCollection query, string collection)
    {
        var list = rows.ToList();
        var known = list.Count > 0 ? list[0].Select(p => p.Key).ToHashSet() : null;
        if (Filter(query) is { } filter) list = list.Where(r => Matches(r, filter)).ToList();
        if (query["sort"].ToString() is { Length: > 0 } sort)
        {
            IOrderedEnumerable<JsonObject>? ordered = null;
            foreach (var key in sort.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var desc = key.StartsWith('-');
                var field = desc ? key[1..] : key;
                Func<JsonObject, string> by = r => r[field]?.ToJsonString() ?? "";
                ordered = ordered is null
                    ? desc ? list.OrderByDescending(by, StringComparer.Ordinal) : list.OrderBy(by, StringComparer.Ordinal)
                    : desc ? ordered.ThenByDescending(by, StringComparer.Ordinal) : ordered.ThenBy(by, StringComparer.Ordinal);
            }
            if (ordered is not null) list = ordered.ToList();
        }
        var offset = Int(query, "offset", 0);
        var limit = Int(query, "limit", 100);
        IEnumerable<JsonObject> page = list.Skip(Math.Max(0, offset));
        if (limit >= 0) page = page.Take(limit);
        return page.Select(r => Select(r, query["fields"].ToString(), known, collection));
    }

    public static JsonObject Select(JsonObject row, string? fields, IReadOnlySet<string>? known, string collection)
    {
        if (string.IsNullOrWhiteSpace(fields) || fields.Split(',').Any(f => f.Trim() == "*")) return row;
        var result = new JsonObject();
        foreach (var f in fields.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var top = f.Split('.')[0];
            if (!row.ContainsKey(top) && known is not null && !known.Contains(top))
                throw new DirectusException(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden,
                    $"You don't have permission to access field \"{top}\" in collection \"{collection}\" or it does not exist.");
            result[top] = row[top]?.DeepClone();
        }
        return result;
    }

    private static int Int(IQueryCollection query, string name, int fallback)
    {
        var s = query[name].ToString();
        if (s.Length == 0) return fallback;
        return int.TryParse(s, out var n) && n >= -1 ? n
            : throw new DirectusException(StatusCodes.Status400BadRequest, ErrorCodes.InvalidQuery, $"Invalid query. \"{name}\" must be a whole number.");
    }

    private static JsonObject? Filter(IQueryCollection query)
    {
        if (query["filter"].ToString() is { Length: > 0 } json)
        {
            try
            {
                if (JsonNode.Parse(json) is JsonObject obj && PermissionRules.FilterProblem(obj) is null) return obj;
            }
            catch (JsonException) { }
            throw new DirectusException(StatusCodes.Status400BadRequest, ErrorCodes.InvalidQuery, "Invalid query. \"filter\" is not a valid filter.");
        }
        // filter[email][_eq]=a@b.c
        JsonObject? built = null;
        foreach (var (key, value) in query)
        {
            if (!key.StartsWith("filter[", StringComparison.Ordinal)) continue;
            var parts = key[7..].TrimEnd(']').Split("][");
            if (parts.Length != 2) continue;
            built ??= new JsonObject();
            built[parts[0]] = new JsonObject { [parts[1]] = value.ToString() };
        }
        return built;
    }

    public static bool Matches(JsonObject row, JsonObject filter)
    {
        foreach (var (key, condition) in filter)
        {
            if (key == "_and" && condition is JsonArray all) { if (!all.All(f => f is JsonObject o && Matches(row, o))) return false; continue; }
            if (key == "_or" && condition is JsonArray any) { if (!any.Any(f => f is JsonObject o && Matches(row, o))) return false; continue; }
            if (condition is not JsonObject ops) return false;
            var value = row[key];
            foreach (var (op, operand) in ops)
                if (!Test(value, op, operand)) return false;
        }
        return true;
    }

    private static bool Test(JsonNode? value, string op, JsonNode? operand)
    {
        string? Text(JsonNode? n) => n is JsonValue v ? v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString() : n?.ToJsonString();
        var text = Text(value);
        var arg = Text(operand);
        IEnumerable<string?> List() => operand is JsonArray a ? a.Select(Text) : (arg ?? "").Split(',');
        int Compare() => double.TryParse(text, out var x) && double.TryParse(arg, out var y) ? x.CompareTo(y) : string.CompareOrdinal(text, arg);
        return op switch
        {
            "_eq" => text == arg,
            "_neq" => text != arg,
            "_in" => List().Contains(text),
            "_nin" => !List().Contains(text),
            "_null" => value is null == (arg is "true"),
            "_nnull" => value is not null == (arg is "true"),
            "_empty" => string.IsNullOrEmpty(text) == (arg is "true"),
            "_nempty" => !string.IsNullOrEmpty(text) == (arg is "true"),
            "_contains" => text is not null && arg is not null && text.Contains(arg, StringComparison.Ordinal),
            "_icontains" => text is not null && arg is not null && text.Contains(arg, StringComparison.OrdinalIgnoreCase),
            "_ncontains" => text is null || arg is null || !text.Contains(arg, StringComparison.Ordinal),
            "_starts_with" => text is not null && arg is not null && text.StartsWith(arg, StringComparison.Ordinal),
            "_ends_with" => text is not null && arg is not null && text.EndsWith(arg, StringComparison.Ordinal),
            "_gt" => text is not null && Compare() > 0,
            "_gte" => text is not null && Compare() >= 0,
            "_lt" => text is not null && Compare() < 0,
            "_lte" => text is not null && Compare() <= 0,
            _ => false,
        };
    }
}
