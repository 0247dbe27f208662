using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// How values cross the boundary per Directus type: an operand becomes a typed parameter (a bad one is a 400, never a
/// database error), and a column becomes JSON the way Directus returns it: <c>bigInteger</c> and <c>decimal</c> as
/// strings (JavaScript numbers cannot hold them), <c>timestamp</c> as UTC ISO with milliseconds and <c>Z</c>,
/// <c>dateTime</c>, <c>date</c> and <c>time</c> as PostgreSQL writes them, <c>csv</c> as a list.
/// </summary>
internal static class ColumnValues
{
    private const DateTimeStyles Utc = DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;

    public static string SqlType(FieldSchema field) => field.Type switch
    {
        "integer" => "integer",
        "bigInteger" => "bigint",
        "float" => "real",
        "decimal" => "numeric",
        "boolean" => "boolean",
        "date" => "date",
        "dateTime" => "timestamp",
        "timestamp" => "timestamptz",
        "time" => "time",
        "uuid" => "uuid",
        "json" => "jsonb",
        _ => "text",
    };

    public static bool IsText(FieldSchema field) => field.Type is "string" or "text" or "hash" or "csv";
    public static bool IsNumeric(FieldSchema field) => field.Type is "integer" or "bigInteger" or "float" or "decimal";
    public static bool IsTemporal(FieldSchema field) => field.Type is "date" or "dateTime" or "timestamp" or "time";

    /// <summary>The column as JSON in the response.</summary>
    public static string Output(FieldSchema field, string expression) => field.Type switch
    {
        "bigInteger" or "decimal" => $"({expression})::text",
        "timestamp" => $"to_char(({expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        "csv" => $"to_json(string_to_array({expression}, ','))",
        _ => expression,
    };

    /// <summary>The operand as a parameter value of the column's type.</summary>
    public static object Convert(FieldSchema field, JsonNode operand, string op) =>
        operand is JsonValue v && TryConvert(field, v) is { } value ? value : throw Bad(field, operand, op);

    /// <summary>A JSON scalar as a parameter value of the column's type, or null when it is not one; item writes raise their own error.</summary>
    public static object? TryConvert(FieldSchema field, JsonValue v)
    {
        var kind = v.GetValueKind();
        var text = kind == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
        var inv = CultureInfo.InvariantCulture;
        return field.Type switch
        {
            "integer" => int.TryParse(text, NumberStyles.AllowLeadingSign, inv, out var i) ? i : null,
            "bigInteger" => long.TryParse(text, NumberStyles.AllowLeadingSign, inv, out var l) ? l : null,
            "float" => double.TryParse(text, NumberStyles.Float, inv, out var d) ? d : null,
            "decimal" => decimal.TryParse(text, NumberStyles.Float, inv, out var m) ? m : null,
            "boolean" => text switch { "true" or "1" => true, "false" or "0" => false, _ => null },
            "uuid" => Guid.TryParse(text, out var g) ? g : null,
            // Dates travel as ISO text PostgreSQL casts; written anew here so it never sees a form .NET read differently.
            "date" => DateTime.TryParse(text, inv, Utc, out var day) ? day.ToString("yyyy-MM-dd", inv) : null,
            "dateTime" => DateTime.TryParse(text, inv, Utc, out var at) ? at.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", inv) : null,
            "timestamp" => DateTimeOffset.TryParse(text, inv, Utc, out var utc) ? utc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", inv) : null,
            "time" => TimeOnly.TryParse(text, inv, out var clock) ? clock.ToString("HH:mm:ss.ffffff", inv) : null,
            "json" => v.ToJsonString(),
            _ => text,
        };
    }

    /// <summary>A list operand (<c>_in</c>) as a typed array parameter.</summary>
    public static Array ConvertList(FieldSchema field, JsonArray list, string op)
    {
        var items = list.Select(i => i is null ? throw Bad(field, i, op) : Convert(field, i, op)).ToArray();
        var type = items.Length > 0 ? items[0].GetType() : ClrType(field);
        var array = Array.CreateInstance(type, items.Length);
        for (var i = 0; i < items.Length; i++) array.SetValue(items[i], i);
        return array;
    }

    private static Type ClrType(FieldSchema field) => field.Type switch
    {
        "integer" => typeof(int),
        "bigInteger" => typeof(long),
        "float" => typeof(double),
        "decimal" => typeof(decimal),
        "boolean" => typeof(bool),
        "uuid" => typeof(Guid),
        _ => typeof(string),
    };

    private static Exception Bad(FieldSchema field, JsonNode? operand, string op) => QueryErrors.Invalid(
        $"{operand?.ToJsonString() ?? "null"} is not a valid {field.Type} for \"{op}\" on \"{field.Field}\" in \"{field.Collection}\".");
}
