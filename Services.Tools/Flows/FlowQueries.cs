using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Query;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// Reads of flows, operations and notifications with the items query language's <c>filter</c>, <c>sort</c>,
/// <c>offset</c>, <c>limit</c> and <c>fields</c>, judged in memory (they are few). <c>fields</c> picks top-level
/// fields (<c>*</c> all) and expands a relation named by a path (<c>operations.key</c>, <c>operation.*</c>,
/// <c>flow.name</c>) into its records; a field the record does not have is 403, as Directus answers an unknown field.
/// </summary>
public static class FlowQueries
{
    /// <summary>A relational field's records by its value (an id, or a list of ids for a one-to-many).</summary>
    public delegate JsonNode? Expand(JsonNode? value);

    public static JsonArray Select(IEnumerable<JsonObject> records, ItemQuery query, QueryContext context, string collection,
        IReadOnlyDictionary<string, Expand>? relations = null)
    {
        var selected = records.Where(r => query.Filter is null || PayloadValidation.Judge(query.Filter, r, context) is null);
        if (query.Sort.Count > 0) selected = selected.Order(new BySort(query.Sort));
        selected = selected.Skip(query.Offset ?? 0);
        if (query.Limit is { } limit and >= 0) selected = selected.Take(limit);
        return new JsonArray(selected.Select(r => (JsonNode)Pick(r, query.Fields, collection, relations ?? new Dictionary<string, Expand>())).ToArray());
    }

    /// <summary>The <c>operations</c> of a flow and its first <c>operation</c> as operation records.</summary>
    public static IReadOnlyDictionary<string, Expand> FlowRelations(IEnumerable<OperationRecord> operations)
    {
        var byId = operations.ToDictionary(o => o.Id.ToString(), o => o);
        JsonNode? One(JsonNode? id) => id is JsonValue v && byId.TryGetValue(v.ToString(), out var o) ? o.Json() : null;
        return new Dictionary<string, Expand>
        {
            ["operations"] = ids => new JsonArray((ids as JsonArray ?? []).Select(One).ToArray()),
            ["operation"] = One,
        };
    }

    /// <summary>An operation's <c>flow</c> as a flow record, its <c>resolve</c> and <c>reject</c> as operation records.</summary>
    public static IReadOnlyDictionary<string, Expand> OperationRelations(IReadOnlyList<FlowRecord> flows, IReadOnlyList<OperationRecord> operations)
    {
        var byId = operations.ToDictionary(o => o.Id.ToString(), o => o);
        var flowsById = flows.ToDictionary(f => f.Id.ToString(), f => f);
        JsonNode? One(JsonNode? id) => id is JsonValue v && byId.TryGetValue(v.ToString(), out var o) ? o.Json() : null;
        return new Dictionary<string, Expand>
        {
            ["flow"] = id => id is JsonValue v && flowsById.TryGetValue(v.ToString(), out var f) ? f.Json(operations) : null,
            ["resolve"] = One,
            ["reject"] = One,
        };
    }

    private static JsonObject Pick(JsonObject record, IReadOnlyList<string>? fields, string collection, IReadOnlyDictionary<string, Expand> relations)
    {
        if (fields is null || fields.Count == 0) return record;
        var picked = new JsonObject();
        var nested = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var path in fields)
        {
            var (head, rest) = path.IndexOf('.') is var dot and >= 0 ? (path[..dot], path[(dot + 1)..]) : (path, null);
            if (head == "*")
            {
                foreach (var (name, value) in record) picked[name] ??= value?.DeepClone();
                continue;
            }
            if (!record.ContainsKey(head)) throw QueryErrors.ForbiddenField(head, collection);
            if (rest is null) picked[head] = record[head]?.DeepClone();
            else if (relations.ContainsKey(head)) (nested.TryGetValue(head, out var list) ? list : nested[head] = []).Add(rest);
            else throw QueryErrors.ForbiddenField(path, collection);
        }
        foreach (var (name, paths) in nested)
            picked[name] = relations[name](record[name]) switch
            {
                JsonObject one => Pick(one, paths, collection, new Dictionary<string, Expand>()),
                JsonArray many => new JsonArray(many.Select(m => m is JsonObject o ? (JsonNode)Pick(o, paths, collection, new Dictionary<string, Expand>()) : null).ToArray()),
                _ => null,
            };
        return picked;
    }

    /// <summary>Orders by each key in turn: numbers as numbers, text by ordinal, nulls last (PostgreSQL's ascending order).</summary>
    private sealed class BySort(IReadOnlyList<SortKey> keys) : IComparer<JsonObject>
    {
        public int Compare(JsonObject? x, JsonObject? y)
        {
            foreach (var key in keys)
            {
                var order = Values(FlowTemplates.Get(x, key.Path), FlowTemplates.Get(y, key.Path));
                if (order != 0) return key.Descending ? -order : order;
            }
            return 0;
        }

        private static int Values(JsonNode? a, JsonNode? b) => (a, b) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number =>
                Number(x).CompareTo(Number(y)),
            _ => string.CompareOrdinal(Text(a), Text(b)),
        };

        // a number made in code (an int) is not readable as a double; its JSON text always is
        private static double Number(JsonValue value) => double.Parse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

        private static string Text(JsonNode node) =>
            node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node.ToJsonString();
    }
}
