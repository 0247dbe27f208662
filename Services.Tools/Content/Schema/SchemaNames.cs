using System.Text.RegularExpressions;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// The one gate for identifiers that become SQL: a name is checked against a strict pattern (so quotes, semicolons
/// and spaces never reach a statement) and then always quoted. System prefixes are refused so a collection can never
/// shadow the store's own tables.
/// </summary>
public static partial class SchemaNames
{
    private static readonly string[] SystemPrefixes = ["content_", "directus_"];

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex Identifier();

    /// <summary>A collection name a caller may create; <paramref name="property"/> is the payload field it came from.</summary>
    public static string Collection(string? name, string property = "collection")
    {
        Check(name, property);
        if (SystemPrefixes.Any(p => name!.StartsWith(p, StringComparison.Ordinal)))
            throw DirectusException.InvalidPayload($"\"{property}\" can't start with {string.Join(" or ", SystemPrefixes)} (reserved for system collections)", property);
        return name!;
    }

    /// <summary>A field name a caller may create.</summary>
    public static string Field(string? name, string property = "field")
    {
        Check(name, property);
        return name!;
    }

    /// <summary>A checked identifier in double quotes: the only way a name enters a statement.</summary>
    public static string Quote(string name) =>
        Identifier().IsMatch(name) ? $"\"{name}\"" : throw new ArgumentException($"Not a checked identifier: {name}", nameof(name));

    /// <summary>A constraint name for a column (<c>articles_author_foreign</c>, as Knex names them), shortened with a hash to fit 63 characters.</summary>
    public static string Constraint(string collection, string field, string suffix)
    {
        var name = $"{collection}_{field}_{suffix}";
        if (name.Length <= 63) return name;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)))[..8];
        return $"{name[..(62 - hash.Length - suffix.Length - 1)]}_{hash}_{suffix}";
    }

    private static void Check(string? name, string property)
    {
        if (string.IsNullOrEmpty(name))
            throw DirectusException.InvalidPayload($"\"{property}\" is required", property);
        if (!Identifier().IsMatch(name))
            throw DirectusException.InvalidPayload(
                $"\"{property}\" must start with a lower-case letter or _ and hold only a-z, 0-9 and _ (at most 63 characters)", property);
    }
}
