using AiAssistant.ServiceDefaults.Access;

namespace AiAssistant.Services.Settings.Access;

public static class SettingsAccessExtensions
{
    /// <summary>Settings is where access data lives: its directory is its own database, not gRPC.</summary>
    public static WebApplicationBuilder AddSettingsAccess(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServiceDefaults.Data.IDatabaseSchema, AccessSchema>();
        builder.Services.AddSingleton<AccessStore>();
        builder.Services.AddSingleton<IAccessDirectory>(sp => sp.GetRequiredService<AccessStore>());
        builder.Services.AddSingleton<Passwords>();
        builder.Services.AddSingleton<Sessions>();
        builder.Services.AddSingleton<LoginRateLimit>();
        builder.Services.AddHostedService<AdminBootstrap>();
        builder.Services.AddHostedService<AccessVersionPublisher>();
        builder.AddAccess();
        return builder;
    }

    public static IEndpointRouteBuilder MapAccessApi(this IEndpointRouteBuilder app)
    {
        app.MapAuthApi();
        app.MapUsersApi();
        app.MapRolesApi();
        app.MapPoliciesApi();
        app.MapPermissionsApi();
        app.MapGrpcService<AccessGrpc>();
        return app;
    }
}
