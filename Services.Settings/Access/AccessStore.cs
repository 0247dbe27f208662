using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.ServiceDefaults.Redis;
using Npgsql;
using StackExchange.Redis;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// The source of truth for who may do what. Every change runs in one transaction with its <see cref="AccessChanged"/>
/// event in the outbox and a new access version, which is then written to Redis so every cache moves on.
/// </summary>
public sealed class AccessStore(NpgsqlDataSource dataSource, OutboxSignal outbox, IConnectionMultiplexer redis, ILogger<AccessStore> logger) : IAccessDirectory
{
    // Admin implies app access; the flags are the OR of the role's policies and the user's own.
    private const string EffectiveAccessSql = """
        select u.id, u.role, u.status,
               coalesce(bool_or(p.admin_access), false),
               coalesce(bool_or(p.app_access or p.admin_access), false)
        from access_users u
        left join access_links l on l."user" = u.id or (u.role is not null and l.role = u.role)
        left join access_policies p on p.id = l.policy
        where {0}
        group by u.id
        """;

    public NpgsqlDataSource DataSource => dataSource;

    public Task<UserAccess?> FindUserAsync(string userId, CancellationToken ct) =>
        Guid.TryParse(userId, out var id) ? FindAsync("u.id = $1", id, ct) : Task.FromResult<UserAccess?>(null);

    public Task<UserAccess?> FindByStaticTokenAsync(string tokenSha256, CancellationToken ct) =>
        FindAsync("u.token_sha256 = $1", tokenSha256, ct);

    public async Task<UserAccess?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string where, object arg, CancellationToken ct)
    {
        await using var cmd = SqlRows.Command(connection, tx, string.Format(EffectiveAccessSql, where), arg);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new UserAccess(reader.GetGuid(0).ToString(), reader.IsDBNull(1) ? null : reader.GetGuid(1).ToString(),
            reader.GetBoolean(3), reader.GetBoolean(4), reader.GetString(2));
    }

    private async Task<UserAccess?> FindAsync(string where, object arg, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await FindAsync(connection, null, where, arg, ct);
    }

    /// <summary>
    /// Runs <paramref name="change"/> in a transaction, adds <see cref="AccessChanged"/> for the users it names, commits,
    /// and publishes the new version. An exception rolls everything back: nothing half-written stays.
    /// </summary>
    public async Task<T> ChangeAsync<T>(string subject,
        Func<NpgsqlConnection, NpgsqlTransaction, Task<(T Result, IEnumerable<Guid> Users)>> change, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var (result, users) = await change(connection, tx);
        var version = (await SqlRows.ScalarAsync<long>(connection, tx, "select nextval('access_version')", ct));
        var ids = users.Distinct().Select(u => u.ToString()).ToList();
        await OutboxWriter.AddAsync(connection, tx, new AccessChanged(version, subject, ids, DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
        outbox.Notify();
        await PublishVersionAsync(version, ct);
        logger.LogInformation("Access changed ({Subject}): version {Version}, {Users} user(s) affected", subject, version, ids.Count);
        return result;
    }

    /// <summary>Users whose access a change of these roles or policies alters.</summary>
    public static async Task<List<Guid>> UsersOfAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid[] roles, Guid[] policies, CancellationToken ct)
    {
        await using var cmd = SqlRows.Command(connection, tx, """
            select id from access_users where role = any($1)
            union select "user" from access_links where "user" is not null and policy = any($2)
            union select u.id from access_users u join access_links l on l.role = u.role where l.policy = any($2)
            """, roles, policies);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetGuid(0));
        return ids;
    }

    /// <summary>Raises the access version in Redis (never lowers it); caches everywhere follow within their poll interval.</summary>
    public async Task PublishVersionAsync(long version, CancellationToken ct)
    {
        try
        {
            await redis.GetDatabase().SetIfGreaterAsync(AccessNames.VersionKey, version);
        }
        catch (Exception e) when (e.IsRedisFailure())
        {
            logger.LogWarning("Access version {Version} not written to Redis ({ExceptionType})", version, e.GetType().Name);
        }
    }

    /// <summary>
    /// The permission rows of <paramref name="user"/>'s policies (the role's and the user's own), or of the Public policy
    /// when <paramref name="user"/> is null: what the content store enforces on every read and write.
    /// </summary>
    public async Task<Contracts.Access.GetPermissionsReply> PermissionsAsync(Guid? user, CancellationToken ct)
    {
        const string policiesOfUser = """
            select distinct l.policy from access_users u
            join access_links l on l."user" = u.id or (u.role is not null and l.role = u.role)
            where u.id = $1
            """;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var policies = new List<Guid>();
        if (user is { } id)
        {
            await using var cmd = SqlRows.Command(connection, null, policiesOfUser, id);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) policies.Add(reader.GetGuid(0));
        }
        else policies.Add(Guid.Parse(AccessSchema.PublicPolicyId));

        var reply = new Contracts.Access.GetPermissionsReply();
        reply.PolicyIds.AddRange(policies.Select(p => p.ToString()));
        await using (var cmd = SqlRows.Command(connection, null, """
            select policy, collection, action, fields, permissions::text, validation::text, presets::text
            from access_permissions where policy = any($1) order by id
            """, policies.ToArray()))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                var permission = new Contracts.Access.Permission
                {
                    PolicyId = reader.GetGuid(0).ToString(), Collection = reader.GetString(1), Action = reader.GetString(2),
                    HasFields = !reader.IsDBNull(3),
                    PermissionsJson = reader.IsDBNull(4) ? "" : reader.GetString(4),
                    ValidationJson = reader.IsDBNull(5) ? "" : reader.GetString(5),
                    PresetsJson = reader.IsDBNull(6) ? "" : reader.GetString(6),
                };
                if (permission.HasFields) permission.Fields.AddRange(reader.GetFieldValue<string[]>(3));
                reply.Permissions.Add(permission);
            }
        return reply;
    }

    public async Task<long> CurrentVersionAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await SqlRows.ScalarAsync<long>(connection, null, "select last_value from access_version", ct);
    }
}

/// <summary>
/// Writes the database's access version to Redis every second: after Redis lost it, or missed a write while it was down,
/// caches still move on within a second of it coming back.
/// </summary>
public sealed class AccessVersionPublisher(AccessStore store, ILogger<AccessVersionPublisher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            try
            {
                await store.PublishVersionAsync(await store.CurrentVersionAsync(stoppingToken), stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogDebug("Access version not read: {ExceptionType}", e.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
