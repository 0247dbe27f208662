using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Services.Tools.Schema;
using AiAssistant.Services.Tools.ToolRegistry;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPostgres(ResourceNames.ContentDatabase);
builder.AddRedis();
builder.AddMessaging();
builder.AddInternalGrpc();

builder.AddAccess();
builder.Services.AddSingleton<IDatabaseSchema, ContentSchema>();
builder.Services.AddSingleton<CollectionsStore>();
builder.Services.AddSingleton<ITool, SchemaTool>();
builder.Services.AddSingleton<ToolRegistry>();

var app = builder.Build();
app.UseDirectusErrors();
app.MapDefaultEndpoints();
app.UseCallerIdentity();
app.MapCollectionsApi();
app.MapGrpcService<ToolsGrpc>();
app.MapGrpcHealthChecksService();
app.Run();
