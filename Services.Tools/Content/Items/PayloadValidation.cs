using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// A permission's <c>validation</c> evaluated in memory on the values being written (payload merged with presets),
/// before any SQL runs: the values are not rows yet, so the SQL filter compiler cannot judge them. A failure is
/// Directus's 400 <c>FAILED_VALIDATION</c> naming the field and the rule. On update, a rule on a field the payload
/// leaves untouched is not judged (the stored value passed when it was written); relational conditions are not
/// evaluated in memory and pass.
/// </summary>
public static class PayloadValidation
{
    public static void Check(Filter validation, JsonObject values, bool creating, QueryContext context)
    {
        if (Failure(validation, values, creating, context, nested: false) is { } failure) throw failure;
    }

    /// <summary>
    /// A filter judged on a JSON document (a flow's <c>condition</c> over its data chain, a read of flows): every rule
    /// applies, and <c>{"a": {"b": {"_eq": 1}}}</c> descends into the document's objects. <c>null</c> when it holds.
    /// </summary>
    public static DirectusException? Judge(Filter filter, JsonObject document, QueryContext context) =>
        Failure(filter, document, creating: true, context, nested: true);

    private static DirectusException? Failure(Filter filter, JsonObject values, bool creating, QueryContext context, bool nested) => filter switch
    {
        AndFilter and => and.Filters.Select(f => Failure(f, values, creating, context, nested)).FirstOrDefault(f => f is not null),
        OrFilter or => or.Filters.Select(f => Failure(f, values, creating, context, nested)).ToList() is var all && all.Any(f => f is null) ? null : all.FirstOrDefault(),
        FieldCondition c when creating || values.ContainsKey(c.Field) => Condition(c, values[c.Field], DynamicValues.Resolve(c.Operand, context)),
        RelationalCondition r when nested => values[r.Field] is JsonObject inner
            ? Failure(r.Inner, inner, creating, context, nested)
            : new DirectusException(StatusCodes.Status400BadRequest, ErrorCodes.FailedValidation, $"Validation failed for field \"{r.Field}\". Value has to be an object.",
                new Dictionary<string, object?> { ["field"] = r.Field, ["path"] = Array.Empty<string>(), ["type"] = "object" }),
        _ => null,
    };

    private static DirectusException? Condition(FieldCondition c, JsonNode? value, JsonNode? operand)
    {
        var type = FilterOperators.Name(c.Operator)[1..];
        bool Is(bool flag) => operand is not JsonValue f || !f.TryGetValue<bool>(out var b) ? flag : b == flag;
        var (passes, detail) = c.Operator switch
        {
            FilterOperator.Eq => (Equal(value, operand), ("valid", operand)),
            FilterOperator.Neq => (!Equal(value, operand), ("invalid", operand)),
            FilterOperator.Lt => (Compare(value, operand) < 0, ("valid", operand)),
            FilterOperator.Lte => (Compare(value, operand) is < 0 or 0, ("valid", operand)),
            FilterOperator.Gt => (Compare(value, operand) is > 0 and not int.MaxValue, ("valid", operand)),
            FilterOperator.Gte => (Compare(value, operand) is >= 0 and not int.MaxValue, ("valid", operand)),
            FilterOperator.In => (List(operand).Any(o => Equal(value, o)), ("valid", operand)),
            FilterOperator.Nin => (!List(operand).Any(o => Equal(value, o)), ("invalid", operand)),
            FilterOperator.Null => (value is null == Is(true), ((string, JsonNode?))("", null)),
            FilterOperator.Nnull => (value is not null == Is(true), ("", null)),
            FilterOperator.Empty => (IsEmpty(value) == Is(true), ("", null)),
            FilterOperator.Nempty => (!IsEmpty(value) == Is(true), ("", null)),
            FilterOperator.Contains => (Text(value)?.Contains(Text(operand) ?? "", StringComparison.Ordinal) == true, ("substring", operand)),
            FilterOperator.StartsWith => (Text(value)?.StartsWith(Text(operand) ?? "", StringComparison.Ordinal) == true, ("substring", operand)),
            FilterOperator.EndsWith => (Text(value)?.EndsWith(Text(operand) ?? "", StringComparison.Ordinal) == true, ("substring", operand)),
            // fail closed: a rule this evaluator cannot judge must not let a value through
            _ => (false, ("", null)),
        };
        if (passes) return null;
        var extensions = new Dictionary<string, object?> { ["field"] = c.Field, ["path"] = Array.Empty<string>(), ["type"] = type };
        if (detail.Item1.Length > 0) extensions[detail.Item1] = detail.Item2?.DeepClone();
        return new DirectusException(StatusCodes.Status400BadRequest, ErrorCodes.FailedValidation,
            $"Validation failed for field \"{c.Field}\".{Explain(c.Operator, operand)}", extensions);
    }

    /// <summary>Directus's wording of each rule.</summary>
    private static string Explain(FilterOperator op, JsonNode? operand)
    {
        var shown = Text(operand);
        var list = string.Join(", ", List(operand).Select(Text));
        return op switch
        {
            FilterOperator.Eq => $" Value has to be \"{shown}\".",
            FilterOperator.Neq => $" Value can't be \"{shown}\".",
            FilterOperator.Lt => $" Value has to be less than {shown}.",
            FilterOperator.Lte => $" Value has to be less than or equal to {shown}.",
            FilterOperator.Gt => $" Value has to be greater than {shown}.",
            FilterOperator.Gte => $" Value has to be greater than or equal to {shown}.",
            FilterOperator.In => $" Value has to be one of {list}.",
            FilterOperator.Nin => $" Value can't be one of {list}.",
            FilterOperator.Null => " Value has to be null.",
            FilterOperator.Nnull => " Value can't be null.",
            FilterOperator.Empty => " Value has to be empty.",
            FilterOperator.Nempty => " Value can't be empty.",
            FilterOperator.Contains => $" Value has to contain {shown}.",
            FilterOperator.StartsWith => $" Value has to start with {shown}.",
            FilterOperator.EndsWith => $" Value has to end with {shown}.",
            _ => $" The rule \"{FilterOperators.Name(op)}\" is not supported in a validation.",
        };
    }

    private static IEnumerable<JsonNode?> List(JsonNode? operand) => operand is JsonArray a ? a : operand is null ? [] : [operand];

    private static bool IsEmpty(JsonNode? value) => value is null || value is JsonArray { Count: 0 } || Text(value) == "";

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    private static decimal? Number(JsonNode? node) =>
        node is JsonValue && decimal.TryParse(Text(node), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    private static bool Equal(JsonNode? a, JsonNode? b) =>
        a is null || b is null ? a is null && b is null : Number(a) is { } x && Number(b) is { } y ? x == y : Text(a) == Text(b);

    /// <summary>Numbers compare as numbers, anything else (ISO dates included) as text; <c>int.MaxValue</c> when either side is missing.</summary>
    private static int Compare(JsonNode? a, JsonNode? b) =>
        a is null || b is null ? int.MaxValue
        : Number(a) is { } x && Number(b) is { } y ? x.CompareTo(y)
        : Math.Sign(string.CompareOrdinal(Text(a), Text(b)));
}
