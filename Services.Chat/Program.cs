using AiAssistant.Contracts;
using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Services.Chat.Chat;
using AiAssistant.Services.Chat.Files;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using AiAssistant.Services.Chat.Usage;
using MassTransit;

var builder = WebApplication.CreateBuilder(args);
// Replicas of one Aspire project share their environment: without a configured id, each start names itself.
var replicaId = builder.Configuration["Chat:ReplicaId"] ?? $"chat-{MessagingExtensions.InstanceId}";

builder.AddServiceDefaults();
builder.AddPostgres(ResourceNames.ChatDatabase);
builder.AddRedis();
// Each replica has its own queue (per replica and per start, expiring once unread), so every replica hears every settings change.
builder.AddMessaging(
    x => x.AddConsumer<AiSettingsChangedConsumer>(),
    (context, cfg) => cfg.ReplicaReceiveEndpoint("chat-settings", e =>
    {
        e.ConfigureConsumeTopology = true;
        e.ConfigureConsumer<AiSettingsChangedConsumer>(context);
    }));

builder.AddAccess();
builder.Services.AddInternalGrpcClient<AiSettings.AiSettingsClient>(ResourceNames.Settings, TimeSpan.FromSeconds(10));
builder.Services.AddInternalGrpcClient<AiAssistant.Contracts.Tools.Tools.ToolsClient>(ResourceNames.Tools, TimeSpan.FromSeconds(10));
builder.Services.AddProviderChatClients(builder.Configuration);
builder.Services.AddSingleton<ProviderConfigCache>();
builder.Services.AddHostedService<SettingsVersionWatcher>();
builder.Services.AddHealthChecks().AddCheck<ProviderSettingsLoaded>(ProviderSettingsLoaded.Name, tags: [AiAssistant.ServiceDefaults.Health.HealthTags.Ready]);
builder.Services.AddSingleton<ToolExecutor>();
builder.Services.AddSingleton<ChatTurn>();
builder.AddUsageLedger();
builder.Services.AddSingleton<ProviderFiles>();

var app = builder.Build();
// Every answer says which replica served it.
app.Use((context, next) =>
{
    context.Response.Headers["X-Served-By"] = replicaId;
    return next(context);
});
app.UseDirectusErrors();
app.MapDefaultEndpoints();
app.UseCallerIdentity();
app.MapChatApi();
app.MapObjectApi();
app.MapFilesApi();
app.MapUsageApi();
app.Run();
