using AiAssistant.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// PostgreSQL's refusals of a write as Directus's 400s, each naming the field so a person can fix the payload: a
/// database error is the caller's data, never a 500. The field behind a constraint is read from the catalog, because
/// PostgreSQL names only the constraint (and hides the offending value unless error detail is switched on).
/// </summary>
internal static class WriteErrors
{
    public static async Task<Exception> FromAsync(PostgresException e, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var collection = e.TableName;
        var field = e.ColumnName ?? (e.ConstraintName is { } constraint && collection is not null
            ? await ConstraintFieldAsync(dataSource, collection, constraint, ct) : null);
        var extensions = new Dictionary<string, object?> { ["collection"] = collection, ["field"] = field };
        return e.SqlState switch
        {
            PostgresErrorCodes.UniqueViolation => Error(ErrorCodes.RecordNotUnique, $"{Value(field, collection)}has to be unique.", extensions),
            PostgresErrorCodes.NotNullViolation => Error(ErrorCodes.NotNullViolation, $"{Value(field, collection)}can't be null.", extensions),
            PostgresErrorCodes.ForeignKeyViolation => Error(ErrorCodes.InvalidForeignKey,
                $"Invalid foreign key{(field is null ? "" : $" for field \"{field}\"")}{(collection is null ? "" : $" in collection \"{collection}\"")}.", extensions),
            PostgresErrorCodes.StringDataRightTruncation => TooLong(field, collection),
            PostgresErrorCodes.NumericValueOutOfRange => Error(ErrorCodes.ValueOutOfRange, $"{Value(field, collection, "Numeric value")}is out of range.", extensions),
            _ when e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("23", StringComparison.Ordinal) =>
                DirectusException.InvalidPayload($"A value does not fit its field: {e.MessageText}", field),
            _ => e,
        };
    }

    public static DirectusException TooLong(string? field, string? collection) =>
        Error(ErrorCodes.ValueTooLong, $"{Value(field, collection)}is too long.", new Dictionary<string, object?> { ["collection"] = collection, ["field"] = field });

    /// <summary>Directus's opening: <c>Value for field "x" in collection "y" </c>, each part only when known.</summary>
    private static string Value(string? field, string? collection, string opening = "Value") =>
        opening + " " + (field is null ? "" : $"for field \"{field}\" ") + (collection is null ? "" : $"in collection \"{collection}\" ");

    private static DirectusException Error(string code, string message, Dictionary<string, object?> extensions) =>
        new(StatusCodes.Status400BadRequest, code, message, extensions);

    private static async Task<string?> ConstraintFieldAsync(NpgsqlDataSource dataSource, string table, string constraint, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            select a.attname from pg_constraint c
            join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any (c.conkey)
            where c.conname = $1 and c.conrelid = $2::text::regclass
            union all
            select a.attname from pg_index x join pg_class i on i.oid = x.indexrelid
            join pg_attribute a on a.attrelid = x.indrelid and a.attnum = any (x.indkey)
            where i.relname = $1 and x.indrelid = $2::text::regclass
            limit 1
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = constraint });
        cmd.Parameters.Add(new NpgsqlParameter { Value = Query.CompileScope.Quote(table) });
        return await cmd.ExecuteScalarAsync(ct) as string;
    }
}
