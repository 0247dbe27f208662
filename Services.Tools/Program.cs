using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Services.Tools.AssistantTools;
using AiAssistant.Services.Tools.Audit;
using AiAssistant.Services.Tools.Content;
using AiAssistant.Services.Tools.Content.Files;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Services.Tools.Mcp;
using AiAssistant.Services.Tools.ToolRegistry;
using MassTransit;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPostgres(ResourceNames.ContentDatabase);
builder.AddRedis();
// Each replica has its own queue, so every replica hears every schema change and reloads its snapshot.
// Event flows run once: every replica reads one shared queue.
builder.AddMessaging(
    x =>
    {
        x.AddConsumer<SchemaChangedConsumer>();
        x.AddConsumer<ItemsChangedConsumer>();
    },
    (context, cfg) =>
    {
        cfg.ReplicaReceiveEndpoint("tools-schema", e =>
        {
            e.ConfigureConsumeTopology = true;
            e.ConfigureConsumer<SchemaChangedConsumer>(context);
        });
        cfg.ReceiveFlowEvents(context);
    });
builder.AddOutbox();
builder.AddInternalGrpc();

builder.AddAccess();
builder.AddContentStore();
builder.Services.AddAssistantTools();
builder.AddToolCallAudit();
builder.AddMcpSettings();
builder.AddMcp();

var app = builder.Build();
app.UseDirectusErrors();
app.MapDefaultEndpoints();
app.UseCallerIdentity();
app.MapSchemaApi();
app.MapItemsApi();
app.MapActivityApi();
app.MapFilesApi();
app.MapAssetsApi();
app.MapFlowsApi();
app.MapNotificationsApi();
app.MapToolCallsApi();
app.MapPromptsCollectionApi();
app.MapMcpEndpoint();
app.MapGrpcService<ToolsGrpc>();
app.MapGrpcService<ContentGrpc>();
app.MapGrpcHealthChecksService();
app.Run();
