using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiAssistant.ServiceDefaults.Health;

/// <summary>
/// How a service stops on SIGTERM (Kubernetes, DCP's Stop): first it stops being ready — the <c>ready</c> check of
/// /health fails — and keeps serving for <c>Shutdown:DrainDelay</c> (3 s), so the gateway's probes (every second)
/// and Kubernetes' readiness probe take it out of rotation before it refuses anything; then the server stops
/// accepting and lets what is in flight finish, chat streams included, for up to <c>Shutdown:Timeout</c> (30 s),
/// then exits.
/// </summary>
public sealed class GracefulShutdown(IConfiguration configuration, ILogger<GracefulShutdown> logger) : IHostedLifecycleService, IHealthCheck
{
    public const string CheckName = "ready";
    private volatile bool _stopping;

    public static TimeSpan DrainDelay(IConfiguration configuration) => configuration.GetValue("Shutdown:DrainDelay", TimeSpan.FromSeconds(3));
    public static TimeSpan Timeout(IConfiguration configuration) => configuration.GetValue("Shutdown:Timeout", TimeSpan.FromSeconds(30));

    internal static void AddTo(IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<GracefulShutdown>();
        builder.Services.AddHostedService(s => s.GetRequiredService<GracefulShutdown>());
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(CheckName, s => s.GetRequiredService<GracefulShutdown>(), HealthStatus.Unhealthy, [HealthTags.Ready]));
        // the host's stop budget covers the drain delay and the in-flight requests after it
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = DrainDelay(builder.Configuration) + Timeout(builder.Configuration));
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_stopping ? HealthCheckResult.Unhealthy("shutting down") : HealthCheckResult.Healthy());

    /// <summary>Runs before any hosted service (the web server among them) stops.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        var delay = DrainDelay(configuration);
        logger.LogInformation("Shutting down: not ready, draining for {DrainDelay} s before the server stops accepting", delay.TotalSeconds);
        try { await Task.Delay(delay, cancellationToken); }
        catch (OperationCanceledException) { }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
