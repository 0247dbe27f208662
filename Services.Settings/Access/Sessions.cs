using System.Security.Cryptography;
using AiAssistant.ServiceDefaults.Access;
using Npgsql;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// Refresh tokens: opaque, random, stored as SHA-256 only, each used once. Refreshing replaces the token with a new
/// one of the same family; presenting a used token again means it was stolen, so the whole family is revoked.
/// </summary>
public sealed class Sessions(NpgsqlDataSource dataSource, IConfiguration configuration, ILogger<Sessions> logger)
{
    public TimeSpan Lifetime { get; } = TimeSpan.FromSeconds(configuration.GetValue("Auth:RefreshTokenTtlSeconds", 7 * 24 * 3600));

    public enum Outcome { Rotated, Unknown, Reused, Expired }

    public async Task<string> StartAsync(Guid user, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await InsertAsync(connection, null, user, Guid.CreateVersion7(), ct);
    }

    /// <summary>Uses <paramref name="refreshToken"/> once; on success the new token of its family and its user.</summary>
    public async Task<(Outcome Outcome, Guid User, string? Next)> RotateAsync(string refreshToken, Func<Guid, Task<bool>> userMayContinue, CancellationToken ct)
    {
        var hash = CallerResolver.Sha256Hex(refreshToken);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = await SqlRows.ReadAsync(connection, tx,
            "select user_id, family, expires_at < now() as expired, used_at is not null or revoked_at is not null as spent from auth_sessions where token_sha256 = $1 for update",
            [hash], ct);
        if (rows.Count == 0) return (Outcome.Unknown, Guid.Empty, null);
        var row = rows[0];
        var user = Guid.Parse(row["user_id"]!.GetValue<string>());
        var family = Guid.Parse(row["family"]!.GetValue<string>());
        if (row["spent"]!.GetValue<bool>())
        {
            await SqlRows.ExecuteAsync(connection, tx, "update auth_sessions set revoked_at = now() where family = $1 and revoked_at is null", ct, family);
            await tx.CommitAsync(ct);
            logger.LogWarning("A used refresh token was presented again for user {UserId}: its session family is revoked", user);
            return (Outcome.Reused, user, null);
        }
        if (row["expired"]!.GetValue<bool>() || !await userMayContinue(user)) return (Outcome.Expired, user, null);
        await SqlRows.ExecuteAsync(connection, tx, "update auth_sessions set used_at = now() where token_sha256 = $1", ct, hash);
        var next = await InsertAsync(connection, tx, user, family, ct);
        await tx.CommitAsync(ct);
        return (Outcome.Rotated, user, next);
    }

    /// <summary>Ends the session the token belongs to (its whole family). False when the token is unknown.</summary>
    public async Task<bool> EndAsync(string refreshToken, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await SqlRows.ExecuteAsync(connection, null, """
            update auth_sessions set revoked_at = now()
            where family = (select family from auth_sessions where token_sha256 = $1) and revoked_at is null
            """, ct, CallerResolver.Sha256Hex(refreshToken)) > 0;
    }

    /// <summary>Signs the user out everywhere (password changed, suspended, deleted).</summary>
    public static Task RevokeUserAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid user, CancellationToken ct) =>
        SqlRows.ExecuteAsync(connection, tx, "update auth_sessions set revoked_at = now() where user_id = $1 and revoked_at is null", ct, user);

    private async Task<string> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, Guid user, Guid family, CancellationToken ct)
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)).Replace('+', '-').Replace('/', '_');
        await SqlRows.ExecuteAsync(connection, tx,
            "insert into auth_sessions (token_sha256, user_id, family, expires_at) values ($1, $2, $3, now() + $4)", ct,
            CallerResolver.Sha256Hex(token), user, family, Lifetime);
        return token;
    }
}
