using System.Text.Json.Nodes;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// A Directus filter as a typed tree. The same form serves a request's <c>filter</c>, a <c>deep</c> <c>_filter</c> and a
/// permission's row filter, so one compiler turns all of them into SQL.
/// </summary>
public abstract record Filter;

public sealed record AndFilter(IReadOnlyList<Filter> Filters) : Filter;

public sealed record OrFilter(IReadOnlyList<Filter> Filters) : Filter;

/// <summary><c>{"field": {"_op": operand}}</c>; the operand is still JSON, typed by the field at compile time.</summary>
public sealed record FieldCondition(string Field, FilterOperator Operator, JsonNode? Operand) : Filter;

/// <summary><c>{"author": {"name": {…}}}</c>: through a many-to-one, or through a one-to-many as an implicit <c>_some</c>.</summary>
public sealed record RelationalCondition(string Field, Filter Inner) : Filter;

/// <summary><c>{"comments": {"_some": {…}}}</c> or <c>_none</c> through a one-to-many or many-to-many.</summary>
public sealed record QuantifiedCondition(string Field, bool Some, Filter Inner) : Filter;

public enum FilterOperator
{
    Eq, Neq, Lt, Lte, Gt, Gte, In, Nin, Null, Nnull,
    Contains, Ncontains, Icontains, Nicontains,
    StartsWith, NstartsWith, IstartsWith, NistartsWith,
    EndsWith, NendsWith, IendsWith, NiendsWith,
    Between, Nbetween, Empty, Nempty,
}

public static class FilterOperators
{
    private static readonly Dictionary<string, FilterOperator> ByName = new(StringComparer.Ordinal)
    {
        ["_eq"] = FilterOperator.Eq, ["_neq"] = FilterOperator.Neq,
        ["_lt"] = FilterOperator.Lt, ["_lte"] = FilterOperator.Lte,
        ["_gt"] = FilterOperator.Gt, ["_gte"] = FilterOperator.Gte,
        ["_in"] = FilterOperator.In, ["_nin"] = FilterOperator.Nin,
        ["_null"] = FilterOperator.Null, ["_nnull"] = FilterOperator.Nnull,
        ["_contains"] = FilterOperator.Contains, ["_ncontains"] = FilterOperator.Ncontains,
        ["_icontains"] = FilterOperator.Icontains, ["_nicontains"] = FilterOperator.Nicontains,
        ["_starts_with"] = FilterOperator.StartsWith, ["_nstarts_with"] = FilterOperator.NstartsWith,
        ["_istarts_with"] = FilterOperator.IstartsWith, ["_nistarts_with"] = FilterOperator.NistartsWith,
        ["_ends_with"] = FilterOperator.EndsWith, ["_nends_with"] = FilterOperator.NendsWith,
        ["_iends_with"] = FilterOperator.IendsWith, ["_niends_with"] = FilterOperator.NiendsWith,
        ["_between"] = FilterOperator.Between, ["_nbetween"] = FilterOperator.Nbetween,
        ["_empty"] = FilterOperator.Empty, ["_nempty"] = FilterOperator.Nempty,
    };

    private static readonly Dictionary<FilterOperator, string> Names = ByName.ToDictionary(kv => kv.Value, kv => kv.Key);

    public static string Name(FilterOperator op) => Names[op];
    public static FilterOperator? Parse(string name) => ByName.TryGetValue(name, out var op) ? op : null;
    public static string All => string.Join(", ", ByName.Keys);
}
