using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiAssistant.ServiceDefaults.Redis;

public static class RedisExtensions
{
    /// <summary>Registers <see cref="IRedis"/> from ConnectionStrings:redis and a health check for it.</summary>
    public static WebApplicationBuilder AddRedis(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.RequiredConnectionString(ResourceNames.Redis);
        builder.Services.AddSingleton<IRedis>(_ => new RedisClient(connectionString));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(ResourceNames.Redis,
            sp => new DelegateHealthCheck(async ct => await sp.GetRequiredService<IRedis>().PingAsync(ct)),
            HealthStatus.Unhealthy, tags: null));
        return builder;
    }
}
