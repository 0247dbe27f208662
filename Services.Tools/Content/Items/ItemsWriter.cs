using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;
using Npgsql;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>Who writes and from where: the permissions every row is checked against, and what the activity rows record.</summary>
/// <paramref name="EmitEvents"/>: whether the write starts event flows (a flow's own writes do only when its operation says <c>emitEvents</c>).
public sealed record WriteCaller(CallerPermissions Permissions, QueryContext Context, string? Ip, string? UserAgent, string? Origin, bool EmitEvents = true);

/// <summary>What else a write does in its own transaction once its rows are written (a flow's event into the outbox), and after its commit.</summary>
public interface IWriteFollower
{
    /// <summary>Answers whether it wrote anything that <see cref="Committed"/> must announce.</summary>
    Task<bool> FollowAsync(NpgsqlTransaction transaction, WriteCaller caller, IReadOnlyList<(string Action, string Collection, JsonNode Key)> written, CancellationToken ct);

    void Committed();
}

/// <summary>
/// Runs one request's writes in one transaction: every row, nested row, activity and revision is written, or none is.
/// PostgreSQL's refusals become Directus's 400s (<see cref="WriteErrors"/>) after the rollback.
/// </summary>
public sealed class ItemsWriter(NpgsqlDataSource dataSource, SchemaCache schemaCache, ItemsReader reader, IEnumerable<IWriteFollower> followers)
{
    /// <summary>Runs <paramref name="work"/> in a new transaction and commits it; the keys it answers are the items written.</summary>
    public async Task<IReadOnlyList<JsonNode>> WriteAsync(WriteCaller caller, Func<ItemsWrite, Task<IReadOnlyList<JsonNode>>> work, CancellationToken ct)
    {
        var schema = await schemaCache.GetAsync(ct);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var write = new ItemsWrite(schema, caller, reader, transaction, ct);
            var keys = await work(write);
            var announce = new List<IWriteFollower>();
            foreach (var follower in followers)
                if (await follower.FollowAsync(transaction, caller, write.Written, ct)) announce.Add(follower);
            await transaction.CommitAsync(ct);
            foreach (var follower in announce) follower.Committed();
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
