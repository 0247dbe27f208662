using AiAssistant.Contracts;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace AiAssistant.ServiceDefaults.Redis;

public static class RedisDefaults
{
    /// <summary>
    /// Aspire.StackExchange.Redis's <see cref="IConnectionMultiplexer"/> for ConnectionStrings:redis, with its health
    /// check and traces. Everything we keep in Redis is cheap to lose, so the service starts and answers without it:
    /// no abort when the first connect fails, and commands fail at once instead of waiting in the backlog while it is
    /// away. The multiplexer reconnects by itself when Redis is back.
    /// </summary>
    public static TBuilder AddRedis<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // No Redis spans: the version watchers poll Redis several times a second, and each poll became a trace of its
        // own in the dashboard (hundreds a minute, seen there); the integration's health check and metrics stay.
        builder.Configuration.RequiredConnectionString(ResourceNames.Redis); // named now, not at first use
        builder.AddRedisClient(ResourceNames.Redis, settings => settings.DisableTracing = true, Configure);
        return builder;
    }

    /// <summary>The options <see cref="AddRedis{TBuilder}"/> uses, for code (tests, tools) that connects by itself.</summary>
    public static void Configure(ConfigurationOptions options)
    {
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = 2000;
        options.AsyncTimeout = 2000;
        options.SyncTimeout = 2000;
    }

    private const string SetIfGreaterScript =
        "local c = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) return 1 end return 0";

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> only when it is greater than the stored number (versions never go back).</summary>
    public static async Task<bool> SetIfGreaterAsync(this IDatabase redis, RedisKey key, long value) =>
        (long)await redis.ScriptEvaluateAsync(SetIfGreaterScript, [key], [value]) == 1;

    /// <summary>Redis could not answer (down, restarting, timed out): callers carry on without the shared cache.</summary>
    public static bool IsRedisFailure(this Exception e) => e is RedisException or RedisTimeoutException;
}
