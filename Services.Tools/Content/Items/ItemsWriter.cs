using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;
using Npgsql;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>Who writes and from where: the permissions every row is checked against, and what the activity rows record.</summary>
public sealed record WriteCaller(CallerPermissions Permissions, QueryContext Context, string? Ip, string? UserAgent, string? Origin);

/// <summary>
/// Runs one request's writes in one transaction: every row, nested row, activity and revision is written, or none is.
/// PostgreSQL's refusals become Directus's 400s (<see cref="WriteErrors"/>) after the rollback.
/// </summary>
public sealed class ItemsWriter(NpgsqlDataSource dataSource, SchemaCache schemaCache, ItemsReader reader)
{
    /// <summary>Runs <paramref name="work"/> in a new transaction and commits it; the keys it answers are the items written.</summary>
    public async Task<IReadOnlyList<JsonNode>> WriteAsync(WriteCaller caller, Func<ItemsWrite, Task<IReadOnlyList<JsonNode>>> work, CancellationToken ct)
    {
        var schema = await schemaCache.GetAsync(ct);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var keys = await work(new ItemsWrite(schema, caller, reader, transaction, ct));
            await transaction.CommitAsync(ct);
            return keys;
        }
        catch (PostgresException e)
        {
            throw await WriteErrors.FromAsync(e, dataSource, ct);
        }
    }

    /// <summary>The keys of the items <paramref name="query"/> selects among those the caller may read, as Directus's update and delete by query find them.</summary>
    public async Task<IReadOnlyList<JsonNode>> KeysAsync(string collection, ItemQuery query, WriteCaller caller, CancellationToken ct)
    {
        var schema = await schemaCache.GetAsync(ct);
        var key = schema.Collection(collection)?.PrimaryKey ?? throw QueryErrors.ForbiddenCollection(collection);
        var page = await reader.ReadAsync(schema, collection, query with { Fields = [key], Aggregate = [], GroupBy = [] }, caller.Permissions, caller.Context, null, ct);
        return page.Items.Select(i => i![key]!.DeepClone()).ToList();
    }
}
