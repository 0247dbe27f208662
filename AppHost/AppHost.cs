using AiAssistant.AppHost.Hosting;
using AiAssistant.AppHost.Servers;
using AiAssistant.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// The whole system as one graph: servers, then each service with what it references and waits for.
var (arguments, dashboardUrl) = LocalDashboard.Arguments(args);
var builder = DistributedApplication.CreateBuilder(arguments);
var options = AppHostOptions.From(args, builder.AppHostDirectory);
var secrets = new DataFolderSecrets(options.DataFolder);
ResourceStatusLog.AddTo(builder);
// a server or service is Unhealthy until it is up: the status lines say so, the health check service need not
builder.Services.AddLogging(logging => logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));

// PostgreSQL, Redis and RabbitMQ from Debian's packages, as executable resources (no container runtime here).
var postgresPassword = secrets.Parameter(builder, "postgres-password", "postgres.password", SecretFormat.Token256Hex);
var postgres = builder.AddPostgresServer(ResourceNames.Postgres, options.DataFolder, postgresPassword, options.Durable);
var settingsDb = postgres.AddDatabase(ResourceNames.SettingsDatabase, "settings");
var contentDb = postgres.AddDatabase(ResourceNames.ContentDatabase, "content");
var chatDb = postgres.AddDatabase(ResourceNames.ChatDatabase, "chat");
var redis = builder.AddRedisServer(ResourceNames.Redis, options.DataFolder);
var rabbitmq = builder.AddRabbitMqServer(ResourceNames.RabbitMq, options.DataFolder);

if (!options.ServersOnly)
{
    var internalToken = secrets.Parameter(builder, "internal-token", "internal.token", SecretFormat.Token256Hex);
    var jwtKey = secrets.Parameter(builder, "jwt-key", "jwt.key", SecretFormat.Key256Base64);
    var admin = AdminToken.FromEnvironmentOrDataFolder(builder, secrets);

    var settings = builder.AddService<Projects.Services_Settings>(ResourceNames.Settings, grpc: true)
        .WithReference(settingsDb).WaitFor(settingsDb)
        .WithMasterKeyRing(secrets)
        .WithEnvironment("ADMIN_TOKEN", admin.Parameter)
        .WithPassThrough("ADMIN_EMAIL", "ADMIN_PASSWORD", "AI_ENABLED");
    // Tools and Chat call Settings (and Chat calls Tools) per request, with retries, and need not wait for them: the
    // services start side by side once their servers are up. The gateway waits for all of them.
    var tools = builder.AddService<Projects.Services_Tools>(ResourceNames.Tools, grpc: true)
        .WithReference(contentDb).WaitFor(contentDb)
        .WithReference(settings)
        .WithEnvironment("Files__Root", Path.Combine(options.DataFolder, "files"));
    // a closed network's own servers may be imported from when the environment of ./run.sh says so (off by default)
    if (builder.Configuration["Files:Import:AllowPrivateAddresses"] is { Length: > 0 } allowPrivate)
        tools.WithEnvironment("Files__Import__AllowPrivateAddresses", allowPrivate);
    // Settings asks Tools whether a prompts collection exists before it stores its name (no WaitFor: per request)
    settings.WithReference(tools);
    var chat = builder.AddService<Projects.Services_Chat>(ResourceNames.Chat, grpc: false)
        .WithReplicas(options.ChatReplicas)
        .WithReference(chatDb).WaitFor(chatDb)
        .WithReference(settings)
        .WithReference(tools)
        // built-in providers behind a proxy or gateway (or a simulator)
        .WithPassThrough("AI_OPENAI_BASE_URL", "AI_ANTHROPIC_BASE_URL", "AI_GOOGLE_BASE_URL");
    var gateway = builder.AddService<Projects.Gateway>(ResourceNames.Gateway, grpc: false, port: options.GatewayPort)
        .WithReference(settings).WaitFor(settings)
        .WithReference(tools).WaitFor(tools)
        .WithReplicaAddresses(chat) // each Chat replica's own address, so the gateway's health checks see each one
        .WithPassThrough("AI_ENABLED")
        .WithExternalHttpEndpoints();

    foreach (var service in new[] { settings, tools, chat, gateway })
        service
            .WithReference(redis).WaitFor(redis)
            .WithEnvironment("Internal__Token", internalToken)
            .WithEnvironment("Auth__JwtKey", jwtKey);
    // events (the outbox, AiSettingsChanged): the gateway publishes and consumes none
    foreach (var service in new[] { settings, tools, chat })
        service.WithReference(rabbitmq).WaitFor(rabbitmq);

    // The gateway waits for everything: once it is healthy, the whole system is.
    builder.Eventing.Subscribe<ResourceReadyEvent>(gateway.Resource, (e, _) =>
    {
        if (e.Services.GetRequiredService<DistributedApplicationModel>().Resources.Any(r => r.Name == "aspire-dashboard"))
            Console.WriteLine($"Dashboard: {dashboardUrl}");
        Console.WriteLine($"Gateway: {gateway.GetEndpoint("http").Url.Replace("localhost", "127.0.0.1", StringComparison.Ordinal)}");
        if (admin.Generated) Console.WriteLine($"Admin token (generated, kept in {admin.Path}): {admin.Value}");
        return Task.CompletedTask;
    });
}

builder.Build().Run();
