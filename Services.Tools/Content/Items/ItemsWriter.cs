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
/// What runs before each item is written, in the write's transaction (a flow's <c>filter</c> event): answers the payload
/// to write instead (or the same one), or throws to refuse the whole write.
/// </summary>
public interface IWriteFilter
{
    /// <summary><paramref name="payload"/> is the item's fields for a create or an update, the keys for a delete.</summary>
    Task<JsonNode> FilterAsync(WriteCaller caller, string action, string collection, JsonNode payload, IReadOnlyList<JsonNode>? keys, CancellationToken ct);
}

/// <summary>
/// A write's transaction as the filters it calls see it: writes made while a filter runs (its flow's item operations)
/// join it, each in a savepoint, so they commit or roll back with the write that started them and never wait on its locks.
/// </summary>
public sealed class SharedTransaction(NpgsqlTransaction transaction)
{
    private static readonly AsyncLocal<SharedTransaction?> Current = new();

    public NpgsqlTransaction Transaction => transaction;

    /// <summary>Followers that wrote in this transaction for a joined write: announced after its commit.</summary>
    public List<IWriteFollower> Announce { get; } = [];

    public static SharedTransaction? Joined => Current.Value;

    /// <summary>Until disposed, writes on this async flow join this transaction.</summary>
    public Scope Enter()
    {
        var previous = Current.Value;
        Current.Value = this;
        return new Scope(previous);
    }

    public readonly struct Scope(SharedTransaction? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}

/// <summary>
/// Runs one request's writes in one transaction: every row, nested row, activity and revision is written, or none is.
/// PostgreSQL's refusals become Directus's 400s (<see cref="WriteErrors"/>) after the rollback.
/// </summary>
public sealed class ItemsWriter(NpgsqlDataSource dataSource, SchemaCache schemaCache, ItemsReader reader, IEnumerable<IWriteFollower> followers,
    IEnumerable<IWriteFilter> filters)
{
    private readonly IReadOnlyList<IWriteFilter> _filters = filters.ToList();

    /// <summary>
    /// Runs <paramref name="work"/> in a new transaction and commits it; the keys it answers are the items written.
    /// Called while a filter of another write runs, it joins that write's transaction instead (<see cref="SharedTransaction"/>).
    /// </summary>
    public async Task<IReadOnlyList<JsonNode>> WriteAsync(WriteCaller caller, Func<ItemsWrite, Task<IReadOnlyList<JsonNode>>> work, CancellationToken ct)
    {
        var schema = await schemaCache.GetAsync(ct);
        if (SharedTransaction.Joined is { } joined) return await JoinAsync(joined, schema, caller, work, ct);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var shared = new SharedTransaction(transaction);
            var write = new ItemsWrite(schema, caller, reader, transaction, _filters, shared, ct);
            var keys = await work(write);
            await FollowAsync(transaction, caller, write, shared.Announce, ct);
            await transaction.CommitAsync(ct);
            foreach (var follower in shared.Announce.Distinct()) follower.Committed();
            return keys;
        }
        catch (PostgresException e)
        {
            throw await WriteErrors.FromAsync(e, dataSource, ct);
        }
    }

    /// <summary>A write inside another's transaction, in a savepoint: its failure undoes only itself, its success commits with the other.</summary>
    private async Task<IReadOnlyList<JsonNode>> JoinAsync(SharedTransaction joined, SchemaSnapshot schema, WriteCaller caller,
        Func<ItemsWrite, Task<IReadOnlyList<JsonNode>>> work, CancellationToken ct)
    {
        var transaction = joined.Transaction;
        const string savepoint = "joined_write";
        await transaction.SaveAsync(savepoint, ct);
        try
        {
            var write = new ItemsWrite(schema, caller, reader, transaction, _filters, joined, ct);
            var keys = await work(write);
            await FollowAsync(transaction, caller, write, joined.Announce, ct);
            await transaction.ReleaseAsync(savepoint, ct);
            return keys;
        }
        catch (Exception e)
        {
            await transaction.RollbackAsync(savepoint, CancellationToken.None);
            if (e is PostgresException p) throw await WriteErrors.FromAsync(p, dataSource, ct);
            throw;
        }
    }

    private async Task FollowAsync(NpgsqlTransaction transaction, WriteCaller caller, ItemsWrite write, List<IWriteFollower> announce, CancellationToken ct)
    {
        foreach (var follower in followers)
            if (await follower.FollowAsync(transaction, caller, write.Written, ct)) announce.Add(follower);
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
