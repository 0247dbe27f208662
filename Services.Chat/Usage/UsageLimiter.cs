using System.Globalization;
using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Redis;
using StackExchange.Redis;

namespace AiAssistant.Services.Chat.Usage;

/// <summary>
/// The per-user limits of Settings → AI (<c>ai_usage_limits</c>, by role, 0 = none), enforced across every Chat replica
/// in Redis: requests per minute as a sliding window (a sorted set per user, scored by Redis's own clock so replicas
/// agree), tokens per UTC day as a counter per user and day that <see cref="UsageLedger"/> raises once a turn is
/// recorded. Past a limit a request is a 429 <c>REQUESTS_EXCEEDED</c> with <c>Retry-After</c>. Redis holds only these
/// counters (cheap to lose, as the design says): without Redis requests are let through and a warning is logged, and
/// the ledger in PostgreSQL stays the record of what was used.
/// </summary>
public sealed class UsageLimiter(IConnectionMultiplexer redis, TimeProvider time, ILogger<UsageLimiter> logger)
{
    public const string RequestsPrefix = "ai:limits:requests:";
    public const string TokensPrefix = "ai:limits:tokens:";
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    // Trims the window, then admits (adds this request) or answers how many ms until the oldest one leaves it.
    private static readonly LuaScript SlidingWindow = LuaScript.Prepare("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local window = tonumber(@window)
        redis.call('ZREMRANGEBYSCORE', @key, '-inf', now - window)
        if redis.call('ZCARD', @key) >= tonumber(@limit) then
          local oldest = redis.call('ZRANGE', @key, 0, 0, 'WITHSCORES')
          return tonumber(oldest[2]) + window - now
        end
        redis.call('ZADD', @key, now, @member)
        redis.call('PEXPIRE', @key, window)
        return -1
        """);

    /// <summary>The limit that applies to a user of <paramref name="roleId"/>: their role's entry, else the one without a role.</summary>
    public static UsageLimit? For(IEnumerable<UsageLimit> limits, string? roleId)
    {
        UsageLimit? fallback = null;
        foreach (var limit in limits)
        {
            if (limit.Role.Length > 0 && string.Equals(limit.Role, roleId, StringComparison.OrdinalIgnoreCase)) return limit;
            if (limit.Role.Length == 0) fallback = limit;
        }
        return fallback;
    }

    /// <summary>Admits one request of <paramref name="userId"/> or throws the 429; the request then counts for a minute.</summary>
    public async Task AdmitAsync(HttpContext context, string userId, UsageLimit? limit)
    {
        if (limit is null || (limit.RequestsPerMinute <= 0 && limit.TokensPerDay <= 0)) return;
        var db = redis.GetDatabase();
        try
        {
            if (limit.TokensPerDay > 0)
            {
                var used = await db.StringGetAsync(TokensKey(userId, time.GetUtcNow()));
                if (used.TryParse(out long tokens) && tokens >= limit.TokensPerDay)
                {
                    var now = time.GetUtcNow();
                    var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
                    throw Exceeded(context, midnight - now,
                        $"Daily token limit reached: {tokens.ToString("N0", CultureInfo.InvariantCulture)} of {limit.TokensPerDay.ToString("N0", CultureInfo.InvariantCulture)} tokens used today (UTC). It resets at midnight UTC");
                }
            }
            if (limit.RequestsPerMinute > 0)
            {
                var wait = (long)await db.ScriptEvaluateAsync(SlidingWindow, new
                {
                    key = (RedisKey)(RequestsPrefix + userId),
                    window = (long)Minute.TotalMilliseconds,
                    limit = limit.RequestsPerMinute,
                    member = Guid.NewGuid().ToString("N"),
                });
                if (wait >= 0)
                    throw Exceeded(context, TimeSpan.FromMilliseconds(wait),
                        $"Too many AI requests: at most {limit.RequestsPerMinute} per minute");
            }
        }
        catch (Exception e) when (e.IsRedisFailure())
        {
            // Without Redis no replica can count: let the request through rather than lock every user out.
            logger.LogWarning("AI usage limits not checked ({ExceptionType})", e.GetType().Name);
        }
    }

    /// <summary>Adds recorded turns to their users' tokens of the day (the UTC day of each turn).</summary>
    public async Task CountTokensAsync(IReadOnlyList<UsageRecord> records)
    {
        try
        {
            var db = redis.GetDatabase();
            var batch = db.CreateBatch();
            var writes = new List<Task>();
            foreach (var day in records.Where(r => r.TotalTokens > 0).GroupBy(r => TokensKey(r.User.ToString(), r.Timestamp)))
            {
                writes.Add(batch.StringIncrementAsync(day.Key, day.Sum(r => r.TotalTokens)));
                writes.Add(batch.KeyExpireAsync(day.Key, TimeSpan.FromDays(2)));
            }
            batch.Execute();
            await Task.WhenAll(writes);
        }
        catch (Exception e) when (e.IsRedisFailure())
        {
            logger.LogWarning("Tokens of {Count} turns not counted towards daily limits ({ExceptionType})", records.Count, e.GetType().Name);
        }
    }

    public static string TokensKey(string userId, DateTimeOffset at) =>
        $"{TokensPrefix}{userId.ToLowerInvariant()}:{at.UtcDateTime:yyyy-MM-dd}";

    private static DirectusException Exceeded(HttpContext context, TimeSpan wait, string reason)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return new DirectusException(StatusCodes.Status429TooManyRequests, ErrorCodes.RequestsExceeded,
            $"{reason}. Try again in {seconds} s.",
            new Dictionary<string, object?> { ["reason"] = reason, ["retryAfter"] = seconds });
    }
}
