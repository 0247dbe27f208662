namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// A Directus items query, parsed once from a query string or a tool's JSON (<see cref="QueryParser"/>) and compiled
/// against a schema snapshot (<see cref="ItemsQueryCompiler"/>). Nothing in it has been checked against the schema yet:
/// field names are the caller's words until the compiler finds them in the snapshot.
/// </summary>
public sealed record ItemQuery
{
    public static readonly ItemQuery Default = new();

    /// <summary>Field paths (<c>title</c>, <c>author.name</c>, <c>*</c>, <c>*.*</c>); null means <c>*</c>.</summary>
    public IReadOnlyList<string>? Fields { get; init; }
    public Filter? Filter { get; init; }
    public IReadOnlyList<SortKey> Sort { get; init; } = [];
    /// <summary>Null takes the default limit; <c>-1</c> reads every row.</summary>
    public int? Limit { get; init; }
    public int? Offset { get; init; }
    /// <summary>1-based; offset = (page − 1) × limit.</summary>
    public int? Page { get; init; }
    public string? Search { get; init; }
    public MetaKinds Meta { get; init; }
    /// <summary>Per relational field (or alias): the nested query of its rows; nested relations by their own key.</summary>
    public IReadOnlyDictionary<string, ItemQuery> Deep { get; init; } = new Dictionary<string, ItemQuery>();
    /// <summary>Alias name → the field it reads, so one relation can be read twice with different <see cref="Deep"/>.</summary>
    public IReadOnlyDictionary<string, string> Alias { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<Aggregation> Aggregate { get; init; } = [];
    public IReadOnlyList<GroupKey> GroupBy { get; init; } = [];

    public bool IsAggregate => Aggregate.Count > 0 || GroupBy.Count > 0;
}

/// <summary>One sort key; <see cref="Path"/> may walk many-to-one relations (<c>author.name</c>).</summary>
public sealed record SortKey(string Path, bool Descending);

[Flags]
public enum MetaKinds
{
    None = 0,
    TotalCount = 1,
    FilterCount = 2,
}

/// <summary>An aggregate function over a field; <see cref="Field"/> is <c>*</c> only for <see cref="AggregateFunction.Count"/>.</summary>
public sealed record Aggregation(AggregateFunction Function, string Field);

public enum AggregateFunction { Count, CountDistinct, Sum, SumDistinct, Avg, AvgDistinct, Min, Max }

/// <summary>A group key: a field, or a date part of one (<c>year(date_created)</c>), which Directus names <c>date_created_year</c>.</summary>
public sealed record GroupKey(string Field, DatePart? Function = null)
{
    public string OutputName => Function is { } f ? $"{Field}_{DateParts.Name(f)}" : Field;
}

public enum DatePart { Year, Month, Week, Day, Weekday, Hour, Minute, Second }

public static class DateParts
{
    private static readonly Dictionary<string, DatePart> ByName = Enum.GetValues<DatePart>().ToDictionary(Name);

    public static string Name(DatePart part) => part.ToString().ToLowerInvariant();
    public static DatePart? Parse(string name) => ByName.TryGetValue(name, out var p) ? p : null;
    public static string Names => string.Join(", ", ByName.Keys);
}

public static class AggregateFunctions
{
    private static readonly Dictionary<string, AggregateFunction> ByName =
        Enum.GetValues<AggregateFunction>().ToDictionary(Name, StringComparer.Ordinal);

    /// <summary>Directus's spelling: <c>count</c>, <c>countDistinct</c>, <c>sumDistinct</c>, …</summary>
    public static string Name(AggregateFunction f) => char.ToLowerInvariant(f.ToString()[0]) + f.ToString()[1..];
    public static AggregateFunction? Parse(string name) => ByName.TryGetValue(name, out var f) ? f : null;
    public static string Names => string.Join(", ", ByName.Keys);
}
