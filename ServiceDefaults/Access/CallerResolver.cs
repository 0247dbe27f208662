using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Redis;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>
/// Turns a request's Bearer token into a <see cref="CallerIdentity"/>: a JWT is verified locally, a static token is
/// looked up by its SHA-256; either way the user's current access comes from this process's cache, then Redis
/// (<c>access:cache:{version}:…</c>), then <see cref="IAccessDirectory"/>. A new access version (see
/// <see cref="AccessVersionWatcher"/>) empties this process's cache and moves Redis to new keys, so a suspended user or a
/// changed token stops working within the watcher's interval.
/// </summary>
public sealed class CallerResolver(AccessTokens tokens, IAccessDirectory directory, IConnectionMultiplexer redis, TimeProvider time, ILogger<CallerResolver> logger)
{
    private const int MaxLocalEntries = 10_000;
    private static readonly TimeSpan LocalLifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RedisLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _local = new();
    private long _version;
    private bool _versionKnown;

    private sealed record Entry(long Version, UserAccess? Access, long ExpiresAt);

    public long Version => Volatile.Read(ref _version);

    /// <summary>The caller, null when the request carries no token; 401 for a token that is bad, expired or whose user is not active.</summary>
    public async ValueTask<CallerIdentity?> AuthenticateAsync(HttpContext context)
    {
        var token = BearerToken(context.Request);
        if (token is null) return null;
        var ct = context.RequestAborted;
        UserAccess? access;
        if (AccessTokens.LooksLikeJwt(token))
        {
            var verified = tokens.Verify(token);
            if (verified.Status == AccessTokenStatus.Expired)
                throw new DirectusException(StatusCodes.Status401Unauthorized, AccessNames.TokenExpired, "Token expired.");
            if (verified.Status != AccessTokenStatus.Valid)
                throw new DirectusException(StatusCodes.Status401Unauthorized, AccessNames.InvalidToken, "Invalid token.");
            access = await LookupAsync("u:" + verified.UserId, c => directory.FindUserAsync(verified.UserId!, c), ct);
        }
        else
        {
            var hash = Sha256Hex(token);
            access = await LookupAsync("t:" + hash, c => directory.FindByStaticTokenAsync(hash, c), ct);
        }
        if (access is null || !access.IsActive) throw DirectusException.Unauthenticated();
        return access.ToCaller();
    }

    /// <summary>Takes a newer (or, after Redis lost it, different) access version: what this process held is dropped.</summary>
    public void UseVersion(long version)
    {
        var previous = Interlocked.Exchange(ref _version, version);
        _versionKnown = true;
        if (previous != version) _local.Clear();
    }

    /// <summary>Forgets everything cached here (an <c>AccessChanged</c> event arrived).</summary>
    public void Forget() => _local.Clear();

    public static string Sha256Hex(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The Bearer token of the Authorization header, or Directus's <c>access_token</c> query parameter.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.Length > 7 && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = header.AsSpan(7).Trim();
            return token.IsEmpty ? null : token.ToString();
        }
        return request.Query.TryGetValue("access_token", out var q) && q.ToString() is { Length: > 0 } t ? t : null;
    }

    private async ValueTask<UserAccess?> LookupAsync(string key, Func<CancellationToken, Task<UserAccess?>> load, CancellationToken ct)
    {
        var version = await CurrentVersionAsync(ct);
        var now = time.GetTimestamp();
        if (_local.TryGetValue(key, out var entry) && entry.Version == version && now < entry.ExpiresAt) return entry.Access;

        var redisKey = $"{AccessNames.CachePrefix}{version}:{key}";
        UserAccess? access = null;
        var fromRedis = false;
        try
        {
            if (await redis.GetDatabase().StringGetAsync(redisKey) is { HasValue: true } json)
            {
                access = JsonSerializer.Deserialize<UserAccess>(json.ToString());
                fromRedis = true;
            }
        }
        catch (Exception e) when (e.IsRedisFailure())
        {
            logger.LogDebug("Access cache in Redis unavailable: {ExceptionType}", e.GetType().Name);
        }
        if (!fromRedis)
        {
            access = await load(ct);
            if (access is not null)
            {
                try { await redis.GetDatabase().StringSetAsync(redisKey, JsonSerializer.Serialize(access), RedisLifetime); }
                catch (Exception e) when (e.IsRedisFailure()) { logger.LogDebug("Access cache in Redis unavailable: {ExceptionType}", e.GetType().Name); }
            }
        }
        // Unknown tokens are remembered here only (not in Redis), and the map is bounded against floods of them.
        if (_local.Count >= MaxLocalEntries) _local.Clear();
        _local[key] = new Entry(version, access, now + (long)(LocalLifetime.TotalSeconds * time.TimestampFrequency));
        return access;
    }

    private async ValueTask<long> CurrentVersionAsync(CancellationToken ct)
    {
        if (_versionKnown) return Version;
        try
        {
            UseVersion(long.TryParse((string?)await redis.GetDatabase().StringGetAsync(AccessNames.VersionKey), out var v) ? v : 0);
        }
        catch (Exception e) when (e.IsRedisFailure())
        {
            // Redis is down: what this process holds still expires after LocalLifetime.
        }
        return Version;
    }
}
