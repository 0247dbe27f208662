using System.Globalization;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// Directus's <c>search</c>: case-insensitive substring on string and text fields, equality on numeric fields when the
/// term is exactly a number, equality on uuid fields when it is a uuid; only over fields the caller may read.
/// </summary>
internal sealed class SearchCompiler(CompileScope scope, FilterCompiler filters)
{
    public string Compile(string term, CollectionSchema collection, string alias, CollectionReadAccess access)
    {
        var parts = new List<string>();
        foreach (var field in collection.Fields.Values)
        {
            if (field.IsAlias || !access.CanRead(field.Field)) continue;
            var column = filters.Column(collection, alias, field.Field);
            if (field.Type is "string" or "text")
                parts.Add($"lower({column}) LIKE lower({scope.Param("%" + FilterCompiler.Escape(term) + "%", "text")})");
            else if (ColumnValues.IsNumeric(field) && IsPlainNumber(term, field))
                parts.Add($"{column} = {scope.Param(ColumnValues.Convert(field, System.Text.Json.Nodes.JsonValue.Create(term), "search"), ColumnValues.SqlType(field))}");
            else if (field.Type == "uuid" && Guid.TryParse(term, out var id))
                parts.Add($"{column} = {scope.Param(id, "uuid")}");
        }
        return parts.Count == 0 ? "FALSE" : "(" + string.Join(" OR ", parts) + ")";
    }

    /// <summary>As Directus's check that the number prints back as the term (so "0x1f" or "1e3" are not numbers here).</summary>
    private static bool IsPlainNumber(string term, FieldSchema field) => field.Type is "integer" or "bigInteger"
        ? long.TryParse(term, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
          && l.ToString(CultureInfo.InvariantCulture) == term && (field.Type == "bigInteger" || l is >= int.MinValue and <= int.MaxValue)
        : decimal.TryParse(term, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d)
          && d.ToString(CultureInfo.InvariantCulture) == term;
}
