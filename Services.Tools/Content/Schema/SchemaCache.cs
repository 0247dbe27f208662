using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Redis;
using MassTransit;
using Npgsql;
using StackExchange.Redis;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// This replica's current <see cref="SchemaSnapshot"/>. It is replaced when a newer version is announced
/// (<see cref="SchemaChanged"/> on this replica's queue), noticed in Redis or, while Redis is away, in the database
/// (<see cref="SchemaVersionWatcher"/>); so every replica serves a change within a second, events or not.
/// </summary>
public sealed class SchemaCache(NpgsqlDataSource dataSource, ILogger<SchemaCache> logger)
{
    private sealed record Entry(long Version, SchemaSnapshot Snapshot);

    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile Entry? _current;

    public long Version => _current?.Version ?? 0;

    /// <summary>The snapshot loaded last, without waiting (null before the first load).</summary>
    public SchemaSnapshot? Current => _current?.Snapshot;

    /// <summary>The current snapshot; the first call loads it.</summary>
    public async ValueTask<SchemaSnapshot> GetAsync(CancellationToken ct) => _current?.Snapshot ?? await RefreshAsync(1, ct);

    /// <summary>Makes sure the snapshot is at least <paramref name="version"/>; one load at a time.</summary>
    public async Task<SchemaSnapshot> RefreshAsync(long version, CancellationToken ct)
    {
        if (_current is { } c && c.Version >= version) return c.Snapshot;
        await _reload.WaitAsync(ct);
        try
        {
            if (_current is { } again && again.Version >= version) return again.Snapshot;
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            // One snapshot of the database for the version and the schema it names.
            await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            var (loaded, snapshot) = await SchemaReader.ReadAsync(connection, tx, ct);
            await tx.CommitAsync(ct);
            _current = new Entry(loaded, snapshot);
            logger.LogInformation("Schema version {Version} loaded ({Collections} collections)", loaded, snapshot.Collections.Count);
            return snapshot;
        }
        finally
        {
            _reload.Release();
        }
    }
}

/// <summary>Each replica's own queue delivers <see cref="SchemaChanged"/>; a newer version reloads the snapshot.</summary>
public sealed class SchemaChangedConsumer(SchemaCache cache) : IConsumer<SchemaChanged>
{
    public Task Consume(ConsumeContext<SchemaChanged> context) => cache.RefreshAsync(context.Message.Version, context.CancellationToken);
}

/// <summary>
/// Reads the schema version from Redis several times a second (from the database once a second while Redis is away)
/// and reloads on a newer one: the bound on a stale schema when an event is lost. It also loads the schema at start.
/// </summary>
public sealed class SchemaVersionWatcher(SchemaCache cache, NpgsqlDataSource dataSource, IConnectionMultiplexer redis,
    ILogger<SchemaVersionWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ticks = 0;
        var redisFailing = false;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                long version;
                try
                {
                    version = long.TryParse((string?)await redis.GetDatabase().StringGetAsync(ResourceNames.SchemaVersionKey), out var v) ? v : 1;
                    redisFailing = false;
                }
                catch (Exception e) when (e.IsRedisFailure())
                {
                    if (!redisFailing) logger.LogWarning("Schema version not readable in Redis ({ExceptionType}); reading it from the database", e.GetType().Name);
                    redisFailing = true;
                    if (ticks++ % 4 != 0 && cache.Version > 0) continue;
                    await using var cmd = dataSource.CreateCommand("select version from content_schema_version where id = 1");
                    version = (long)(await cmd.ExecuteScalarAsync(stoppingToken))!;
                }
                await cache.RefreshAsync(Math.Max(version, 1), stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning("Schema not loadable ({ExceptionType}); retrying", e.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
