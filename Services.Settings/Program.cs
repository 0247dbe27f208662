using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Services.Settings.Secrets;
using AiAssistant.Services.Settings.Server;
using AiAssistant.Services.Settings.Settings;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPostgres(ResourceNames.SettingsDatabase);
builder.AddRedis();
builder.AddMessaging();
builder.AddOutbox();

builder.Services.AddSingleton<BearerTokens>();
builder.Services.AddSingleton(ProviderKeyCipher.FromConfiguration(builder.Configuration));
builder.Services.AddSingleton<IDatabaseSchema, AiSettingsSchema>();
builder.Services.AddSingleton<AiSettingsStore>();

var app = builder.Build();
app.UseServiceDefaults();
app.MapServerApi();
app.MapSettingsApi();
app.MapAiConfigGrpc();
app.Run();
