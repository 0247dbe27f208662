using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiAssistant.ServiceDefaults.Health;

/// <summary>A health check from a probe that returns true when the dependency answers.</summary>
public sealed class DelegateHealthCheck(Func<CancellationToken, Task<bool>> probe) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await probe(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("no answer");
        }
        catch (Exception e)
        {
            // The type is enough to act on; a message could carry a connection string.
            return HealthCheckResult.Unhealthy(e.GetType().Name);
        }
    }
}
