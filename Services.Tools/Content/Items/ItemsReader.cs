using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;
using Npgsql;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>The items of one read: the rows as Directus shows them, and the <c>meta</c> counts that were asked for.</summary>
public sealed record ItemsPage(JsonArray Items, long? TotalCount, long? FilterCount);

/// <summary>
/// Reads items: compiles the query against the current schema under the caller's read access, runs it, and streams the
/// JSON rows PostgreSQL built. A value PostgreSQL cannot take for its column (text for an integer key, a bad date) is
/// the caller's mistake: 400 <c>INVALID_QUERY</c>, never a 500.
/// </summary>
public sealed class ItemsReader(NpgsqlDataSource dataSource, SchemaCache schemaCache, TimeProvider time)
{
    public async Task<ItemsPage> ReadAsync(string collection, ItemQuery query, ICollectionAccess access, QueryContext context, CancellationToken ct) =>
        await ReadAsync(await schemaCache.GetAsync(ct), collection, query, access, context, null, ct);

    /// <summary>
    /// A read against <paramref name="schema"/> (system tables bring their own), inside <paramref name="transaction"/>
    /// when a write checks the rows it is about to change.
    /// </summary>
    public async Task<ItemsPage> ReadAsync(SchemaSnapshot schema, string collection, ItemQuery query, ICollectionAccess access,
        QueryContext context, NpgsqlTransaction? transaction, CancellationToken ct)
    {
        var compiled = new ItemsQueryCompiler(schema).Compile(collection, query, access, context);
        try
        {
            var items = new JsonArray();
            await using (var command = transaction is null ? compiled.Items.CreateCommand(dataSource) : compiled.Items.CreateCommand(transaction))
            await using (var reader = await command.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                    items.Add(JsonNode.Parse(reader.GetString(0)));
            return new ItemsPage(items, await CountAsync(compiled.TotalCount, ct), await CountAsync(compiled.FilterCount, ct));
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            // class 22, data exception: invalid_text_representation, datetime_field_overflow, numeric_value_out_of_range…
            throw QueryErrors.Invalid($"A value in the query does not fit its field: {e.MessageText}.");
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
        {
            throw QueryErrors.Invalid($"A value in the query does not fit its field: {e.Message}");
        }
    }

    /// <summary>The caller's context for dynamic values in filters.</summary>
    public QueryContext Context(string? userId, string? roleId, IReadOnlyList<string> policyIds) =>
        new(userId, roleId, roleId is null ? [] : [roleId], policyIds, time);

    private async Task<long?> CountAsync(SqlStatement? statement, CancellationToken ct)
    {
        if (statement is null) return null;
        await using var command = statement.CreateCommand(dataSource);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }
}
