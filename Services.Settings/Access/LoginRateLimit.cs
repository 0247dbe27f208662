using System.Security.Cryptography;
using System.Text;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Redis;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// Failed sign-ins counted in Redis per email and per client address in fixed windows; past the limit every attempt
/// on that email or from that address is a 429 with Retry-After until the window ends. Emails are hashed in the key.
/// </summary>
public sealed class LoginRateLimit(IRedis redis, IConfiguration configuration, ILogger<LoginRateLimit> logger)
{
    public int PerEmail { get; } = configuration.GetValue("Auth:LoginFailuresPerEmail", 10);
    public int PerAddress { get; } = configuration.GetValue("Auth:LoginFailuresPerAddress", 50);
    public TimeSpan Window { get; } = TimeSpan.FromSeconds(configuration.GetValue("Auth:LoginWindowSeconds", 900));

    /// <summary>429 when either counter is at its limit.</summary>
    public async Task CheckAsync(string email, string address, CancellationToken ct)
    {
        foreach (var (key, limit) in Keys(email, address))
        {
            RespValue count;
            try
            {
                count = await redis.ExecuteAsync(["GET", key], ct);
            }
            catch (RedisException e)
            {
                // Without Redis there is no shared count: sign-in stays possible rather than locking everyone out.
                logger.LogWarning("Login rate limit not checked: {Reason}", e.Message);
                return;
            }
            if (long.TryParse(count.Text, out var n) && n >= limit)
            {
                var ttl = (await redis.ExecuteAsync(["PTTL", key], ct)).Integer;
                var seconds = Math.Max(1, (long)Math.Ceiling((ttl > 0 ? ttl : Window.TotalMilliseconds) / 1000.0));
                throw new RateLimited(seconds);
            }
        }
    }

    public async Task FailedAsync(string email, string address, CancellationToken ct)
    {
        foreach (var (key, _) in Keys(email, address))
        {
            try
            {
                if ((await redis.ExecuteAsync(["INCR", key], ct)).Integer == 1)
                    await redis.ExecuteAsync(["PEXPIRE", key, ((long)Window.TotalMilliseconds).ToString()], ct);
            }
            catch (RedisException e)
            {
                logger.LogWarning("Failed login not counted: {Reason}", e.Message);
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
