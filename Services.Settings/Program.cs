using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Services.Settings.Models;
using AiAssistant.Services.Settings.Access;
using AiAssistant.Services.Settings.Secrets;
using AiAssistant.Services.Settings.Server;
using AiAssistant.Services.Settings.Settings;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPostgres(ResourceNames.SettingsDatabase);
builder.AddRedis();
builder.AddMessaging();
builder.AddOutbox();
builder.AddInternalGrpc();

builder.AddSettingsAccess();
builder.Services.AddSingleton(ProviderKeyCipher.FromConfiguration(builder.Configuration));
builder.Services.AddSingleton<IDatabaseSchema, AiSettingsSchema>();
builder.Services.AddSingleton(ModelCatalog.LoadDefault());
builder.Services.AddSingleton<AiSettingsStore>();
// a PATCH naming a prompts collection asks Tools whether the content store has it
builder.Services.AddInternalGrpcClient<AiAssistant.Contracts.Content.Content.ContentClient>(ResourceNames.Tools, TimeSpan.FromSeconds(5));
builder.Services.AddSingleton<PromptsCollectionCheck>();

var app = builder.Build();
if (args is ["rotate-keys", ..])
{
    // A maintenance command, not a server: re-encrypt every secret under the current master key, then exit.
    await KeyRotation.RunAsync(app.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(),
        app.Services.GetRequiredService<ProviderKeyCipher>(), Console.Out, CancellationToken.None);
    return;
}
app.UseDirectusErrors();
app.MapDefaultEndpoints();
app.UseCallerIdentity();
app.MapServerApi();
app.MapSettingsApi();
app.MapAccessApi();
app.MapGrpcService<AiConfigGrpc>();
app.MapGrpcHealthChecksService();
app.Run();
