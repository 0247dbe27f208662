using Npgsql;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>SQL text with positional parameters (<c>$1…</c>); every value a request carries is one of the parameters.</summary>
public sealed record SqlStatement(string Text, IReadOnlyList<NpgsqlParameter> Parameters)
{
    /// <summary>A command ready to run; parameters are cloned so the statement can be run again.</summary>
    public NpgsqlCommand CreateCommand(NpgsqlDataSource data)
    {
        var command = data.CreateCommand(Text);
        foreach (var p in Parameters) command.Parameters.Add(p.Clone());
        return command;
    }

    /// <summary>A command inside <paramref name="transaction"/>: a write reads what it checks in the transaction it writes in.</summary>
    public NpgsqlCommand CreateCommand(NpgsqlTransaction transaction)
    {
        var command = new NpgsqlCommand(Text, transaction.Connection, transaction);
        foreach (var p in Parameters) command.Parameters.Add(p.Clone());
        return command;
    }
}

/// <summary>
/// A compiled read: <see cref="Items"/> returns one <c>json</c> column per row, the item as Directus shows it (or one
/// group of an aggregate), so the reader streams rows without shaping them; the counts back <c>meta</c>.
/// </summary>
public sealed record CompiledItemsQuery(SqlStatement Items, SqlStatement? TotalCount, SqlStatement? FilterCount);

/// <summary>
/// Directus's <c>QUERY_LIMIT_DEFAULT</c>, <c>QUERY_LIMIT_MAX</c> (null = unlimited, Directus's default) and
/// <c>MAX_RELATIONAL_DEPTH</c>, which bounds how far a field path may walk relations (and so the size of the SQL).
/// </summary>
public sealed record QueryLimits(int DefaultLimit = 100, int? MaxLimit = null, int MaxRelationalDepth = 10)
{
    public static readonly QueryLimits Directus = new();
}
