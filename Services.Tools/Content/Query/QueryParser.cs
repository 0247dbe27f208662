using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// Reads Directus's query parameters, as its REST API and <c>@directus/sdk</c> send them or as a tool's JSON, into an
/// <see cref="ItemQuery"/>. The SDK sends <c>filter</c>, <c>deep</c>, <c>alias</c> and <c>aggregate</c> as JSON text and
/// lists comma-joined; hand-written URLs use bracket form: both arrive here in one JSON shape.
/// </summary>
public static class QueryParser
{
    public static readonly IReadOnlySet<string> Parameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "fields", "filter", "sort", "limit", "offset", "page", "search", "meta", "deep", "alias", "aggregate", "groupBy",
    };

    /// <summary>What a <c>deep</c> entry may set, as Directus's <c>_</c>-prefixed keys.</summary>
    private static readonly IReadOnlySet<string> DeepParameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "filter", "sort", "limit", "offset", "page", "search",
    };

    /// <summary>From a request's query string; parameters the query language does not own are ignored, as Directus does.</summary>
    public static ItemQuery Parse(IQueryCollection query) => Parse(QueryStringForm.ToJson(query));

    /// <summary>From a tool's JSON (<c>{"fields":["title"],"filter":{…},"limit":10}</c>); an unknown key is an error.</summary>
    public static ItemQuery Parse(JsonObject query) => ParseQuery(query, Parameters, "");

    private static ItemQuery ParseQuery(JsonObject json, IReadOnlySet<string> allowed, string prefix)
    {
        var query = new ItemQuery();
        foreach (var (key, value) in json)
        {
            var name = prefix.Length == 0 ? key : $"{prefix}[_{key}]";
            if (!allowed.Contains(key))
                throw QueryErrors.Invalid(prefix.Length == 0
                    ? $"Unknown query parameter \"{key}\". Use one of {string.Join(", ", Parameters)}."
                    : $"\"{prefix}\" cannot set \"_{key}\". Use _{string.Join(", _", DeepParameters)}, or a relational field's name.");
            if (value is null || value is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0)
                continue;
            query = key switch
            {
                "fields" => query with { Fields = List(value, name) },
                "filter" => query with { Filter = FilterParser.Parse(Json(value, name), name) },
                "sort" => query with { Sort = List(value, name).Select(s => s.StartsWith('-') ? new SortKey(s[1..], true) : new SortKey(s, false)).ToList() },
                "limit" => query with { Limit = Whole(value, name, -1, "a whole number, -1 for all") },
                "offset" => query with { Offset = Whole(value, name, 0, "a whole number, 0 or more") },
                "page" => query with { Page = Whole(value, name, 1, "a whole number, 1 or more") },
                "search" => query with { Search = Text(value, name) },
                "meta" => query with { Meta = Meta(value) },
                "deep" => query with { Deep = Deep(Json(value, name), name) },
                "alias" => query with { Alias = Alias(Json(value, name)) },
                "aggregate" => query with { Aggregate = Aggregate(Json(value, name)) },
                "groupBy" => query with { GroupBy = List(value, name).Select(GroupKey).ToList() },
                _ => throw new InvalidOperationException(key),
            };
        }
        if (query.Sort.Any(s => s.Path.Length == 0)) throw QueryErrors.Invalid($"\"{Name(prefix, "sort")}\" has an empty field name.");
        return query;
    }

    private static string Name(string prefix, string key) => prefix.Length == 0 ? key : $"{prefix}[_{key}]";

    /// <summary>A JSON value as itself, or JSON text parsed (what the SDK sends for <c>filter</c>, <c>deep</c>, …).</summary>
    private static JsonNode? Json(JsonNode value, string name)
    {
        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return value;
        try
        {
            return JsonNode.Parse(v.GetValue<string>());
        }
        catch (JsonException e)
        {
            throw QueryErrors.Invalid($"\"{name}\" is not valid JSON: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd('.')}.");
        }
    }

    /// <summary>A list as JSON, or comma-separated text (<c>fields=a,b</c>, <c>sort=-a,b</c>).</summary>
    private static List<string> List(JsonNode value, string name)
    {
        IEnumerable<JsonNode?> items = value is JsonArray a ? a : new[] { value };
        return items.SelectMany(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>().Split(',')
                : throw QueryErrors.Invalid($"\"{name}\" must be a list of names, as [\"a\",\"b\"] or \"a,b\"."))
            .Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
    }

    private static int Whole(JsonNode value, string name, int min, string expected)
    {
        var ok = value is JsonValue v && v.GetValueKind() switch
        {
            JsonValueKind.Number => v.TryGetValue<int>(out var n) && n >= min,
            JsonValueKind.String => int.TryParse(v.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min,
            _ => false,
        };
        if (!ok) throw QueryErrors.Invalid($"\"{name}\" must be {expected}.");
        var val = (JsonValue)value;
        return val.GetValueKind() == JsonValueKind.Number ? val.GetValue<int>() : int.Parse(val.GetValue<string>(), CultureInfo.InvariantCulture);
    }

    private static string Text(JsonNode value, string name) => value is JsonValue v
        ? v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString()
        : throw QueryErrors.Invalid($"\"{name}\" must be text.");

    private static MetaKinds Meta(JsonNode value) => List(value, "meta").Aggregate(MetaKinds.None, (all, m) => all | m switch
    {
        "total_count" => MetaKinds.TotalCount,
        "filter_count" => MetaKinds.FilterCount,
        "*" => MetaKinds.TotalCount | MetaKinds.FilterCount,
        _ => throw QueryErrors.Invalid($"\"meta\" does not know \"{m}\". Use total_count, filter_count or *."),
    });

    /// <summary><c>{"comments":{"_filter":{…},"_limit":5,"author":{…}}}</c>: underscore keys are the nested query, others nest further.</summary>
    private static Dictionary<string, ItemQuery> Deep(JsonNode? node, string name)
    {
        if (node is not JsonObject obj) throw QueryErrors.Invalid($"\"{name}\" must be an object keyed by relational field, such as {{\"comments\":{{\"_limit\":5}}}}.");
        var result = new Dictionary<string, ItemQuery>(StringComparer.Ordinal);
        foreach (var (field, entry) in obj)
        {
            var path = $"{name}[{field}]";
            if (field.StartsWith('_')) throw QueryErrors.Invalid($"\"{path}\": \"{name}\" is keyed by relational field; put \"{field}\" under one.");
            if (entry is not JsonObject e) throw QueryErrors.Invalid($"\"{path}\" must be an object such as {{\"_limit\":5}}.");
            var own = new JsonObject();
            var nested = new JsonObject();
            foreach (var (k, v) in e)
                if (k.StartsWith('_')) own[k[1..]] = v?.DeepClone();
                else nested[k] = v?.DeepClone();
            var query = ParseQuery(own, DeepParameters, path);
            result[field] = nested.Count == 0 ? query : query with { Deep = Deep(nested, path) };
        }
        return result;
    }

    private static Dictionary<string, string> Alias(JsonNode? node)
    {
        if (node is not JsonObject obj) throw QueryErrors.Invalid("\"alias\" must be an object such as {\"latest\":\"comments\"}.");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (alias, target) in obj)
        {
            if (target is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>() is not { Length: > 0 } field)
                throw QueryErrors.Invalid($"\"alias[{alias}]\" must name a field.");
            if (alias.Contains('.') || field.Contains('.'))
                throw QueryErrors.Invalid($"\"alias[{alias}]\": an alias and its field cannot contain \".\".");
            result[alias] = field;
        }
        return result;
    }

    private static List<Aggregation> Aggregate(JsonNode? node)
    {
        if (node is not JsonObject obj) throw QueryErrors.Invalid("\"aggregate\" must be an object such as {\"count\":\"*\",\"sum\":[\"price\"]}.");
        var result = new List<Aggregation>();
        foreach (var (name, fields) in obj)
        {
            var function = AggregateFunctions.Parse(name)
                ?? throw QueryErrors.Invalid($"Unknown aggregate function \"{name}\". Use one of {AggregateFunctions.Names}.");
            if (fields is null) throw QueryErrors.Invalid($"\"aggregate[{name}]\" must name fields.");
            foreach (var field in List(fields, $"aggregate[{name}]"))
            {
                if (field == "*" && function != AggregateFunction.Count)
                    throw QueryErrors.Invalid($"\"aggregate[{name}]\" cannot take *; only count can.");
                result.Add(new Aggregation(function, field));
            }
        }
        return result;
    }

    /// <summary><c>author</c>, or a date part such as <c>year(date_created)</c>.</summary>
    private static GroupKey GroupKey(string key)
    {
        var open = key.IndexOf('(');
        if (open < 0) return new GroupKey(key);
        if (!key.EndsWith(')') || open == 0 || key.Length - open < 3)
            throw QueryErrors.Invalid($"\"groupBy\" entry \"{key}\" is neither a field nor a function such as year(date_created).");
        var function = DateParts.Parse(key[..open])
            ?? throw QueryErrors.Invalid($"\"groupBy\" function \"{key[..open]}\" is not supported. Use one of {DateParts.Names}.");
        return new GroupKey(key[(open + 1)..^1], function);
    }
}
