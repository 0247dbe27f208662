using AiAssistant.ServiceDefaults.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>
/// Reads the access version from Redis several times a second and hands it to the <see cref="CallerResolver"/>: the
/// bound on how long a suspended user or a replaced static token still gets in, whether or not events arrive.
/// </summary>
public sealed class AccessVersionWatcher(CallerResolver resolver, IConnectionMultiplexer redis, ILogger<AccessVersionWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                var value = (string?)await redis.GetDatabase().StringGetAsync(AccessNames.VersionKey);
                resolver.UseVersion(long.TryParse(value, out var v) ? v : 0);
                if (failing) logger.LogInformation("Access version readable in Redis again");
                failing = false;
            }
            catch (Exception e) when (e.IsRedisFailure())
            {
                if (!failing) logger.LogWarning("Access version not readable in Redis ({ExceptionType}); retrying", e.GetType().Name);
                failing = true;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
