using Microsoft.Extensions.Configuration;

namespace AiAssistant.AppHost.Hosting;

/// <summary>How every service is declared: its endpoints on loopback (localhost), its health check, what it is passed through.</summary>
public static class ServiceResources
{
    /// <summary>
    /// A service project with an http endpoint (and an h2c <c>grpc</c> endpoint for internal calls), health-checked on
    /// /health. <paramref name="port"/>: a fixed port for the gateway (0: any free one); the rest get free ports.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddService<TProject>(this IDistributedApplicationBuilder builder, string name, bool grpc, int? port = null)
        where TProject : IProjectMetadata, new()
    {
        var service = builder.AddProject<TProject>(name, options => options.ExcludeLaunchProfile = true)
            // a fixed port is the service's own (not proxied): one hop less for every request from outside
            .WithHttpEndpoint(name: "http", port: port is > 0 ? port : null, isProxied: name == Contracts.ResourceNames.Chat)
            .WithKestrelEndpoint("http", "Http1");
        if (grpc) service.WithHttpEndpoint(name: "grpc", isProxied: false).WithKestrelEndpoint("grpc", "Http2");
        return service.WithHttpHealthCheck("/health", endpointName: "http");
    }

    /// <summary>Kestrel listens where Aspire allocated the endpoint: <c>Kestrel__Endpoints__{name}__Url</c>.</summary>
    private static IResourceBuilder<ProjectResource> WithKestrelEndpoint(this IResourceBuilder<ProjectResource> service, string name, string protocols)
    {
        var endpoint = service.GetEndpoint(name);
        return service
            .WithEnvironment($"Kestrel__Endpoints__{name}__Url", ReferenceExpression.Create($"http://localhost:{endpoint.Property(EndpointProperty.TargetPort)}"))
            .WithEnvironment($"Kestrel__Endpoints__{name}__Protocols", protocols);
    }

    /// <summary>Variables of the AppHost's own environment the service gets too, when they are set.</summary>
    public static IResourceBuilder<ProjectResource> WithPassThrough(this IResourceBuilder<ProjectResource> service, params string[] names)
    {
        foreach (var name in names)
            if (service.ApplicationBuilder.Configuration[name] is { Length: > 0 } value) service.WithEnvironment(name, value);
        return service;
    }

    /// <summary>
    /// The key ring that encrypts provider keys: the data folder's <c>master.key</c> as <c>k1</c>, unless the AppHost's
    /// environment names another current key (<c>Secrets__MasterKey</c>, <c>Secrets__MasterKeyId</c>); earlier keys
    /// (<c>Secrets__PreviousKeys__{id}</c>) go along, so a rotation (<c>Services.Settings rotate-keys</c>) can finish.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithMasterKeyRing(this IResourceBuilder<ProjectResource> settings, DataFolderSecrets secrets)
    {
        var configuration = settings.ApplicationBuilder.Configuration;
        var builder = settings.ApplicationBuilder;
        if (configuration["Secrets:MasterKey"] is { Length: > 0 } given)
            settings.WithEnvironment("Secrets__MasterKey", builder.AddParameter("master-key", given, secret: true))
                .WithEnvironment("Secrets__MasterKeyId", configuration["Secrets:MasterKeyId"] is { Length: > 0 } id ? id : "k2");
        else
            settings.WithEnvironment("Secrets__MasterKey", secrets.Parameter(builder, "master-key", "master.key", SecretFormat.Key256Base64))
                .WithEnvironment("Secrets__MasterKeyId", "k1");
        foreach (var previous in configuration.GetSection("Secrets:PreviousKeys").GetChildren())
            if (previous.Value is { Length: > 0 } value)
                settings.WithEnvironment($"Secrets__PreviousKeys__{previous.Key}", builder.AddParameter($"master-key-{previous.Key}", value, secret: true));
        return settings;
    }
}
