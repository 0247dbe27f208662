using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiAssistant.AppHost.Hosting;

/// <summary>
/// One console line per resource state or health change (the dashboard shows the same), and the last log lines of a
/// resource that fails or exits, so a run without a browser still says what went wrong.
/// </summary>
public sealed class ResourceStatusLog(ResourceNotificationService notifications, ResourceLoggerService logs, ILogger<ResourceStatusLog> logger)
{
    /// <summary>Starts watching before the orchestrator starts anything (hosted services would start only after it).</summary>
    public static void AddTo(IDistributedApplicationBuilder builder) =>
        builder.Eventing.Subscribe<BeforeStartEvent>((e, ct) =>
        {
            var stopping = e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            _ = ActivatorUtilities.CreateInstance<ResourceStatusLog>(e.Services).WatchAsync(stopping);
            return Task.CompletedTask;
        });

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        var last = new Dictionary<string, string>();
        try
        {
            await foreach (var e in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                var state = e.Snapshot.State?.Text ?? "";
                var health = e.Snapshot.HealthStatus?.ToString() ?? "";
                var line = health.Length > 0 && state == KnownResourceStates.Running ? $"{state} ({health})" : state;
                if (line.Length == 0 || (last.TryGetValue(e.ResourceId, out var before) && before == line)) continue;
                last[e.ResourceId] = line;
                logger.LogInformation("{Resource}: {State}", e.ResourceId, line);
                if (state == KnownResourceStates.FailedToStart || (state == KnownResourceStates.Exited && e.Snapshot.ExitCode is not (null or 0)))
                    _ = ShowTailAsync(e.ResourceId, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task ShowTailAsync(string resourceId, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(timeout.Token).ConfigureAwait(false))
                lines.AddRange(batch.Select(l => l.Content));
        }
        catch (OperationCanceledException) { }
        logger.LogError("{Resource} stopped; its last lines:\n{Lines}", resourceId, string.Join("\n", lines.TakeLast(30)));
    }
}
