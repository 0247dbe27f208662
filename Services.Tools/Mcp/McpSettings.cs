using AiAssistant.Contracts;
using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.ServiceDefaults.Redis;
using Grpc.Core;
using StackExchange.Redis;

namespace AiAssistant.Services.Tools.Mcp;

/// <summary>
/// This replica's copy of the MCP settings (Settings' gRPC <c>GetMcpConfig</c>; no secret among them), kept per
/// settings version. <see cref="McpSettingsWatcher"/> reads <c>ai:settings:version</c> from Redis four times a
/// second; a newer version makes the next read fetch again, so a change applies within a second. While Redis cannot
/// be read, a copy older than <see cref="MaxAgeWithoutRedis"/> is fetched again; and one older than
/// <see cref="MaxAge"/> in any case (a change made while Redis was away never reached it). Nothing is fetched while
/// nobody asks.
/// </summary>
public sealed class McpSettings(AiSettings.AiSettingsClient settings, TimeProvider time, ILogger<McpSettings> logger)
{
    public static readonly TimeSpan MaxAgeWithoutRedis = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    /// <summary>A fetched copy, the time it was fetched, and the newest version Redis had announced by then.</summary>
    private sealed record Entry(McpConfig Config, DateTimeOffset FetchedAt, long Announced);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Entry? _current;
    private long _announced;
    private volatile bool _redisReadable;

    /// <summary>The settings as of now; 503 naming Settings when there is no copy and Settings cannot be asked.</summary>
    public async ValueTask<McpConfig> GetAsync(CancellationToken ct)
    {
        if (_current is { } current && IsFresh(current)) return current.Config;
        await _refresh.WaitAsync(ct);
        try
        {
            if (_current is { } again && IsFresh(again)) return again.Config;
            var announced = Interlocked.Read(ref _announced);
            McpConfig config;
            try
            {
                config = await settings.GetMcpConfigAsync(new GetMcpConfigRequest(), cancellationToken: ct);
            }
            catch (RpcException e)
            {
                // the last copy is better than no answer while Settings restarts; without one there is nothing to go by
                if (_current is { } stale)
                {
                    logger.LogWarning("MCP settings not refreshed ({Status}); keeping version {Version}", e.StatusCode, stale.Config.Version);
                    return stale.Config;
                }
                throw DirectusException.ServiceUnavailable(ResourceNames.Settings, $"MCP settings unavailable ({e.StatusCode})");
            }
            if (_current?.Config.Version != config.Version)
                logger.LogInformation("MCP settings at version {Version}", config.Version);
            _current = new Entry(config, time.GetUtcNow(), announced);
            return config;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The watcher read <paramref name="version"/> from Redis (0: no version stored).</summary>
    public void Announce(long version)
    {
        _redisReadable = true;
        for (var known = Interlocked.Read(ref _announced); version > known; known = Interlocked.Read(ref _announced))
            if (Interlocked.CompareExchange(ref _announced, version, known) == known) break;
    }

    /// <summary>The watcher could not read Redis: copies expire by age until it can again.</summary>
    public void RedisUnreadable() => _redisReadable = false;

    private bool IsFresh(Entry entry)
    {
        var announced = Interlocked.Read(ref _announced);
        // fetched after the newest announcement, or at least that version: a Redis version ahead of the database
        // (a restored backup) is fetched once, not on every read
        if (entry.Config.Version < announced && entry.Announced < announced) return false;
        var age = time.GetUtcNow() - entry.FetchedAt;
        return age < (_redisReadable ? MaxAge : MaxAgeWithoutRedis);
    }
}

/// <summary>Reads the newest settings version from Redis for <see cref="McpSettings"/> every 250 ms.</summary>
public sealed class McpSettingsWatcher(McpSettings settings, IConnectionMultiplexer redis, ILogger<McpSettingsWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        var failing = false;
        do
        {
            try
            {
                var stored = (string?)await redis.GetDatabase().StringGetAsync(ResourceNames.SettingsVersionKey);
                settings.Announce(long.TryParse(stored, out var version) ? version : 0);
                if (failing) logger.LogInformation("Settings version readable in Redis again");
                failing = false;
            }
            catch (Exception e) when (e.IsRedisFailure())
            {
                settings.RedisUnreadable();
                if (!failing) logger.LogWarning("Settings version not readable in Redis ({ExceptionType}); MCP settings refresh every second", e.GetType().Name);
                failing = true;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}

public static class McpSettingsExtensions
{
    /// <summary>The MCP settings of this replica: Settings' gRPC client, the cache and its Redis watcher.</summary>
    public static WebApplicationBuilder AddMcpSettings(this WebApplicationBuilder builder)
    {
        builder.Services.AddInternalGrpcClient<AiSettings.AiSettingsClient>(ResourceNames.Settings, TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton<McpSettings>();
        builder.Services.AddHostedService<McpSettingsWatcher>();
        return builder;
    }
}
