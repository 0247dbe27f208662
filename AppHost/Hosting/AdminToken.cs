namespace AiAssistant.AppHost.Hosting;

/// <summary>
/// The first admin's static token: <c>ADMIN_TOKEN</c> when given (never printed), else one generated into the data folder
/// (printed once everything is up on the start that generated it; it stays in <c>{data}/secrets/admin.token</c>).
/// </summary>
public sealed record AdminToken(IResourceBuilder<ParameterResource> Parameter, string Value, bool Generated, string Path)
{
    public static AdminToken FromEnvironmentOrDataFolder(IDistributedApplicationBuilder builder, DataFolderSecrets secrets)
    {
        var path = secrets.PathOf("admin.token");
        if (builder.Configuration["ADMIN_TOKEN"] is { Length: > 0 } given)
            return new AdminToken(builder.AddParameter("admin-token", given, secret: true), given, false, path);
        var isNew = !File.Exists(path);
        var token = secrets.LoadOrCreate("admin.token", SecretFormat.Token192Hex);
        return new AdminToken(builder.AddParameter("admin-token", token, secret: true), token, isNew, path);
    }
}
