using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>Who asks and when: what Directus's dynamic values (<c>$CURRENT_USER</c>, <c>$NOW</c>, …) stand for in filters.</summary>
public sealed record QueryContext(
    string? UserId,
    string? RoleId,
    IReadOnlyList<string> RoleIds,
    IReadOnlyList<string> PolicyIds,
    TimeProvider Time)
{
    /// <summary>The Public policy's caller: no user, no role.</summary>
    public static QueryContext Anonymous(TimeProvider time) => new(null, null, [], [], time);
}

/// <summary>Resolves dynamic values in filter operands at compile time, so the SQL only ever sees parameters.</summary>
public static partial class DynamicValues
{
    [GeneratedRegex(@"^\$NOW\(\s*([+-]?)\s*(\d+)\s*([a-z]+)\s*\)$")]
    private static partial Regex NowAdjusted();

    /// <summary><paramref name="operand"/> with every dynamic value replaced; a list value (<c>$CURRENT_ROLES</c>) inside a list is spread into it.</summary>
    public static JsonNode? Resolve(JsonNode? operand, QueryContext context)
    {
        if (operand is JsonArray list)
            return new JsonArray(list.SelectMany(i => Resolve(i, context) is JsonArray inner
                ? inner.Select(x => x?.DeepClone()) : [Resolve(i, context)]).ToArray());
        if (operand is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return operand?.DeepClone();
        var text = v.GetValue<string>();
        if (!text.StartsWith('$')) return JsonValue.Create(text);
        return text switch
        {
            "$CURRENT_USER" => JsonValue.Create(context.UserId),
            "$CURRENT_ROLE" => JsonValue.Create(context.RoleId),
            "$CURRENT_ROLES" => new JsonArray(context.RoleIds.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            "$CURRENT_POLICIES" => new JsonArray(context.PolicyIds.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()),
            "$NOW" => Timestamp(context.Time.GetUtcNow()),
            _ when text.StartsWith("$NOW(", StringComparison.Ordinal) => Timestamp(Adjust(context.Time.GetUtcNow(), text)),
            _ when text.StartsWith("$CURRENT_", StringComparison.Ordinal) => throw QueryErrors.Invalid(
                $"The dynamic value \"{text}\" is not supported. Use $CURRENT_USER, $CURRENT_ROLE, $CURRENT_ROLES, $CURRENT_POLICIES, $NOW or $NOW(-1 day)."),
            _ => JsonValue.Create(text),
        };
    }

    private static JsonNode Timestamp(DateTimeOffset at) => JsonValue.Create(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    /// <summary>Directus's adjustment syntax: <c>$NOW(-1 day)</c>, <c>$NOW(+2 hours)</c>, singular or plural units.</summary>
    private static DateTimeOffset Adjust(DateTimeOffset now, string text)
    {
        var m = NowAdjusted().Match(text);
        if (!m.Success || !int.TryParse(m.Groups[2].Value, CultureInfo.InvariantCulture, out var amount))
            throw QueryErrors.Invalid($"\"{text}\" is not a valid adjusted $NOW. Write it as $NOW(-1 day) or $NOW(+2 hours).");
        if (m.Groups[1].Value == "-") amount = -amount;
        return m.Groups[3].Value.TrimEnd('s') switch
        {
            "year" => now.AddYears(amount),
            "month" => now.AddMonths(amount),
            "week" => now.AddDays(7 * amount),
            "day" => now.AddDays(amount),
            "hour" => now.AddHours(amount),
            "minute" => now.AddMinutes(amount),
            "second" => now.AddSeconds(amount),
            _ => throw QueryErrors.Invalid($"\"{text}\" has an unknown unit \"{m.Groups[3].Value}\". Use years, months, weeks, days, hours, minutes or seconds."),
        };
    }
}
