using System.Security.Cryptography;
using System.Text;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Redis;
using StackExchange.Redis;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// Failed sign-ins counted in Redis per email and per client address in fixed windows; past the limit every attempt
/// on that email or from that address is a 429 with Retry-After until the window ends. Emails are hashed in the key.
/// </summary>
public sealed class LoginRateLimit(IConnectionMultiplexer redis, IConfiguration configuration, ILogger<LoginRateLimit> logger)
{
    public int PerEmail { get; } = configuration.GetValue("Auth:LoginFailuresPerEmail", 10);
    public int PerAddress { get; } = configuration.GetValue("Auth:LoginFailuresPerAddress", 50);
    public TimeSpan Window { get; } = TimeSpan.FromSeconds(configuration.GetValue("Auth:LoginWindowSeconds", 900));

    /// <summary>429 when either counter is at its limit.</summary>
    public async Task CheckAsync(string email, string address, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        foreach (var (key, limit) in Keys(email, address))
        {
            RedisValueWithExpiry count;
            try
            {
                count = await db.StringGetWithExpiryAsync(key);
            }
            catch (Exception e) when (e.IsRedisFailure())
            {
                // Without Redis there is no shared count: sign-in stays possible rather than locking everyone out.
                logger.LogWarning("Login rate limit not checked ({ExceptionType})", e.GetType().Name);
                return;
            }
            if (count.Value.TryParse(out long n) && n >= limit)
            {
                var ttl = count.Expiry ?? Window;
                throw new RateLimited(Math.Max(1, (long)Math.Ceiling(ttl.TotalSeconds)));
            }
        }
    }

    public async Task FailedAsync(string email, string address, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        foreach (var (key, _) in Keys(email, address))
        {
            try
            {
                if (await db.StringIncrementAsync(key) == 1) await db.KeyExpireAsync(key, Window);
            }
            catch (Exception e) when (e.IsRedisFailure())
            {
                logger.LogWarning("Failed login not counted ({ExceptionType})", e.GetType().Name);
            }
        }
    }

    private IEnumerable<(string Key, int Limit)> Keys(string email, string address) =>
    [
        ("auth:login:email:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant()))), PerEmail),
        ("auth:login:address:" + address, PerAddress),
    ];

    /// <summary>The client's address: the last X-Forwarded-For entry (the one the gateway appended), else the peer.</summary>
    public static string ClientAddress(HttpContext context)
    {
        var forwarded = context.Request.Headers["X-Forwarded-For"].ToString();
        if (forwarded.Length > 0) return forwarded.Split(',')[^1].Trim();
        return context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
    }

    public sealed class RateLimited(long retryAfterSeconds) : Exception("Too many sign-in attempts.")
    {
        public long RetryAfterSeconds { get; } = retryAfterSeconds;

        public IResult ToResult(HttpContext context)
        {
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
            return DirectusError.Result(StatusCodes.Status429TooManyRequests, ErrorCodes.RequestsExceeded, "Too many requests, retry later.");
        }
    }
}
