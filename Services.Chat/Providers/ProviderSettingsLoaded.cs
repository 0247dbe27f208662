using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>
/// The <c>settings</c> check of Chat's /health: a replica is ready only once it holds the current provider settings
/// (<see cref="SettingsVersionWatcher"/> fetches them at start), so a replica that starts never serves an old key or
/// answers "no provider" while Settings is still coming up. Once loaded, it stays ready with its cached clients even
/// while Settings is away.
/// </summary>
public sealed class ProviderSettingsLoaded(ProviderConfigCache cache) : IHealthCheck
{
    public const string Name = "settings";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(cache.Version > 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("provider settings not loaded yet"));
}
