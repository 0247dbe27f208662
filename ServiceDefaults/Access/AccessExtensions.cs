using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using AccessService = AiAssistant.Contracts.Access.Access;

namespace AiAssistant.ServiceDefaults.Access;

public static class AccessExtensions
{
    /// <summary>
    /// Identity on a service: the service credential (<see cref="BearerTokens"/>), access tokens, the caller resolver with
    /// its caches and version watcher. Users are looked up in Settings over gRPC unless the service registered its own
    /// <see cref="IAccessDirectory"/> first (Settings does). Needs <c>AddRedis()</c>.
    /// </summary>
    public static WebApplicationBuilder AddAccess(this WebApplicationBuilder builder)
    {
        // checked now, so a service without them exits at start naming the setting (not at its first request)
        if (string.IsNullOrEmpty(builder.Configuration["Internal:Token"]))
            throw new SettingException("Missing setting Internal:Token (environment Internal__Token): the service credential, the same for every service.");
        _ = AccessTokens.FromConfiguration(builder.Configuration, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        builder.Services.TryAddSingleton<BearerTokens>();
        builder.Services.TryAddSingleton<IAccessDirectory, GrpcAccessDirectory>();
        builder.Services.AddInternalGrpcClient<AccessService.AccessClient>(ResourceNames.Settings, GrpcAccessDirectory.Deadline);
        builder.Services.AddSingleton(sp => AccessTokens.FromConfiguration(builder.Configuration,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<AccessTokens>()));
        builder.Services.AddSingleton<CallerResolver>();
        builder.Services.AddHostedService<AccessVersionWatcher>();
        return builder;
    }
}
