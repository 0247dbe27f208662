using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Services.Chat.Chat;
using AiAssistant.Services.Chat.Internal;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using MassTransit;

var builder = WebApplication.CreateBuilder(args);
var replicaId = builder.Configuration["Chat:ReplicaId"] ?? Environment.MachineName;

builder.AddServiceDefaults();
builder.AddPostgres(ResourceNames.ChatDatabase);
builder.AddRedis();
// Each replica has its own durable queue, so every replica hears every settings change.
builder.AddMessaging(
    x => x.AddConsumer<AiSettingsChangedConsumer>(),
    (context, cfg) => cfg.ReceiveEndpoint($"chat-settings-{replicaId}", e =>
    {
        e.ConfigureConsumeTopology = true;
        e.ConfigureConsumer<AiSettingsChangedConsumer>(context);
    }));

builder.AddAccess();
builder.Services.AddSingleton<InternalClients>();
builder.Services.AddProviderChatClients();
builder.Services.AddSingleton<ProviderConfigCache>();
builder.Services.AddHostedService<SettingsVersionWatcher>();
builder.Services.AddSingleton<ToolExecutor>();
builder.Services.AddSingleton<ChatTurn>();

var app = builder.Build();
// Every answer says which replica served it.
app.Use((context, next) =>
{
    context.Response.Headers["X-Served-By"] = replicaId;
    return next(context);
});
app.UseServiceDefaults();
app.UseCallerIdentity();
app.MapChatApi();
app.Run();
