using AiAssistant.AppHost.Hosting;
using AiAssistant.Contracts;

namespace AiAssistant.AppHost.Orchestration;

/// <summary>References, Aspire-style: what each service is told about the others, as environment variables.</summary>
public sealed partial class Stack
{
    /// <summary>Inherited variables no service sees: the stack sets them explicitly, or deliberately not at all.</summary>
    private static readonly string[] Scrubbed =
    [
        "ConnectionStrings__*", "services__*", "Kestrel__*", "ASPNETCORE_*", "OTEL_*", "Internal__*", "Secrets__*",
        "Chat__*", "Auth__*", "AIASSISTANT_*", "DOTNET_ENVIRONMENT", "ADMIN_TOKEN", "ADMIN_EMAIL", "ADMIN_PASSWORD", "AI_ENABLED",
    ];

    private void ConfigureEnvironment(ServiceResource service)
    {
        var env = service.Environment;
        foreach (var scrubbed in Scrubbed) service.RemoveInherited.Add(scrubbed);
        env["ConnectionStrings__redis"] = Redis.ConnectionString;
        env["ConnectionStrings__rabbitmq"] = RabbitMq.ConnectionString;
        env["Internal__Token"] = Secrets.InternalToken;
        // Every service verifies access tokens itself, with the same key.
        env["Auth__JwtKey"] = Secrets.JwtKey;
        env["OTEL_SERVICE_NAME"] = service.ServiceName;
        env["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={service.Name}";
        foreach (var (key, value) in HostVariables().Where(v => v.Key.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal)))
            env[key] = value;
        env["DOTNET_ENVIRONMENT"] = "Production";
        env["Kestrel__Endpoints__http__Url"] = service.HttpUrl;
        if (service.GrpcUrl is not null)
        {
            env["Kestrel__Endpoints__grpc__Url"] = service.GrpcUrl;
            env["Kestrel__Endpoints__grpc__Protocols"] = "Http2";
        }

        switch (service.ServiceName)
        {
            case ResourceNames.Settings:
                env["ConnectionStrings__settings"] = Postgres.ConnectionStringFor(Database(ResourceNames.SettingsDatabase));
                env["Secrets__MasterKey"] = Secrets.MasterKey;
                env["Secrets__MasterKeyId"] = StackSecrets.MasterKeyId;
                // The first admin user's static token (Directus's bootstrap); only Settings knows tokens.
                env["ADMIN_TOKEN"] = AdminToken;
                PassThrough(env, "ADMIN_EMAIL", "ADMIN_PASSWORD", "AI_ENABLED");
                break;
            case ResourceNames.Tools:
                env["ConnectionStrings__content"] = Postgres.ConnectionStringFor(Database(ResourceNames.ContentDatabase));
                env["services__settings__grpc__0"] = Settings.GrpcUrl;
                break;
            case ResourceNames.Chat:
                env["ConnectionStrings__chat"] = Postgres.ConnectionStringFor(Database(ResourceNames.ChatDatabase));
                env["services__settings__grpc__0"] = Settings.GrpcUrl;
                env["services__tools__grpc__0"] = Tools.GrpcUrl;
                env["Chat__ReplicaId"] = service.Name;
                break;
            case ResourceNames.Gateway:
                env["services__settings__http__0"] = Settings.HttpUrl;
                env["services__settings__grpc__0"] = Settings.GrpcUrl;
                env["services__tools__http__0"] = Tools.HttpUrl;
                foreach (var (chat, i) in ChatReplicas.Select((c, i) => (c, i)))
                    env[$"services__chat__http__{i}"] = chat.HttpUrl;
                PassThrough(env, "AI_ENABLED");
                break;
        }

        foreach (var (key, value) in options.ExtraEnvironment) env[key] = value;
        options.ConfigureEnvironment?.Invoke(service, env);
    }

    /// <summary>ADMIN_TOKEN when given (never printed), else the one generated into the data folder.</summary>
    public string AdminToken => HostVariables().TryGetValue("ADMIN_TOKEN", out var given) && given.Length > 0 ? given : Secrets.GeneratedAdminToken;

    public bool AdminTokenGenerated => !(HostVariables().TryGetValue("ADMIN_TOKEN", out var given) && given.Length > 0);

    private void PassThrough(IDictionary<string, string?> env, params string[] names)
    {
        var host = HostVariables();
        foreach (var name in names)
            if (host.TryGetValue(name, out var value) && value.Length > 0) env[name] = value;
    }

    private IReadOnlyDictionary<string, string> HostVariables() => options.HostEnvironment
        ?? System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
}
