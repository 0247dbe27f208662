using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// Turns a query string into the JSON shape a tool would send, so <see cref="QueryParser"/> reads one form. Handles
/// what Directus's REST API accepts (through the <c>qs</c> library): plain values (<c>fields=a,b</c>, JSON in
/// <c>filter</c>), repeated keys, <c>fields[]=a</c>, and bracket paths (<c>filter[_and][0][title][_eq]=x</c>), where an
/// object whose keys are 0…n−1 becomes a list. Parameters the query language does not own (<c>access_token</c>, …) are
/// left out.
/// </summary>
public static class QueryStringForm
{
    public static JsonObject ToJson(IQueryCollection query)
    {
        var root = new JsonObject();
        foreach (var (key, values) in query)
        {
            var (name, path) = Split(key);
            if (!QueryParser.Parameters.Contains(name)) continue;
            var strings = values.Where(v => v is not null).Select(v => (JsonNode?)JsonValue.Create(v!)).ToArray();
            JsonNode value = strings.Length == 1 ? strings[0]! : new JsonArray(strings);
            if (path.Count == 0)
            {
                Merge(root, name, value, key);
                continue;
            }
            var parent = root;
            var segments = new List<string> { name };
            segments.AddRange(path);
            for (var i = 0; i < segments.Count - 1; i++)
            {
                var segment = segments[i];
                var next = segments[i + 1];
                if (next.Length == 0 && i + 1 == segments.Count - 1)
                {
                    // fields[]=a&fields[]=b: append to a list
                    if (parent[segment] is null) parent[segment] = new JsonArray();
                    if (parent[segment] is not JsonArray list) throw Conflict(key);
                    foreach (var s in strings) list.Add(s?.DeepClone());
                    goto nextKey;
                }
                if (segment.Length == 0) throw QueryErrors.Invalid($"\"{key}\" has an empty [] in the middle; only the last one may be empty.");
                parent[segment] ??= new JsonObject();
                parent = parent[segment] as JsonObject ?? throw Conflict(key);
            }
            Merge(parent, segments[^1], value, key);
        nextKey:;
        }
        foreach (var (name, node) in root.ToList()) root[name] = Listify(node?.DeepClone());
        return root;
    }

    private static void Merge(JsonObject parent, string name, JsonNode value, string key)
    {
        if (name.Length == 0) throw QueryErrors.Invalid($"\"{key}\" has an empty [] in the middle; only the last one may be empty.");
        if (parent[name] is null) { parent[name] = value; return; }
        if (parent[name] is JsonArray list && value is JsonValue) { list.Add(value); return; }
        throw Conflict(key);
    }

    private static Exception Conflict(string key) =>
        QueryErrors.Invalid($"\"{key}\" is given twice in different forms; give it once, as JSON or in bracket form.");

    /// <summary><c>filter[a][b]</c> → (<c>filter</c>, [a, b]).</summary>
    private static (string Name, List<string> Path) Split(string key)
    {
        var open = key.IndexOf('[');
        if (open < 0) return (key, []);
        var path = new List<string>();
        var rest = key[open..];
        while (rest.Length > 0)
        {
            var close = rest.IndexOf(']');
            if (rest[0] != '[' || close < 0) throw QueryErrors.Invalid($"\"{key}\" is not a valid bracket path: every [ needs a ].");
            path.Add(rest[1..close]);
            rest = rest[(close + 1)..];
        }
        return (key[..open], path);
    }

    private static JsonNode? Listify(JsonNode? node)
    {
        switch (node)
        {
            case JsonArray a:
                return new JsonArray(a.Select(i => Listify(i?.DeepClone())).ToArray());
            case JsonObject o:
                var entries = o.Select(kv => (kv.Key, Value: Listify(kv.Value?.DeepClone()))).ToList();
                var indexed = entries.Select(e => (Index: int.TryParse(e.Key, out var n) && n.ToString() == e.Key ? n : -1, e.Value))
                    .OrderBy(e => e.Index).ToList();
                if (entries.Count > 0 && indexed.Select((e, i) => e.Index == i).All(b => b))
                    return new JsonArray(indexed.Select(e => e.Value).ToArray());
                var result = new JsonObject();
                foreach (var (k, v) in entries) result[k] = v;
                return result;
            default:
                return node;
        }
    }
}
