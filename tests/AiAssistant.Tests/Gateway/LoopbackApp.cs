using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using AiAssistant.Gateway.Proxy;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiAssistant.Tests.Gateway;

/// <summary>A Kestrel app on a free 127.0.0.1 port, in this process: an upstream service, or the gateway.</summary>
internal sealed class LoopbackApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackApp(WebApplication app)
    {
        _app = app;
        Address = new Uri(app.Urls.Single());
    }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<LoopbackApp> StartAsync(Action<WebApplication> map, Action<WebApplicationBuilder>? configure = null, int port = 0)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddRouting();
        // A test that leaves a request hanging must not hold up its own clean-up.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        configure?.Invoke(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new LoopbackApp(app);
    }

    /// <summary>
    /// An upstream that answers every path with <paramref name="handler"/>, except <c>/health</c> (the gateway's
    /// active health probe), which it answers as a healthy service does.
    /// </summary>
    public static Task<LoopbackApp> UpstreamAsync(RequestDelegate handler, int port = 0) =>
        StartAsync(app =>
        {
            app.Map("/health", context => context.Response.WriteAsync("Healthy"));
            app.Map("/{**path}", handler);
        }, port: port);

    /// <summary>
    /// The gateway as Program.cs composes it: its own appsettings.json (the YARP routes and clusters), service discovery
    /// over <c>services:{name}:http:{i}</c>, the access gate (users from <see cref="GatewayUsers"/>, cached in the
    /// fixture's Redis) and ServiceDefaults' error envelope.
    /// </summary>
    public static Task<LoopbackApp> GatewayAsync(ServersFixture servers, GatewayConfig config, Action<WebApplicationBuilder>? configure = null) =>
        StartAsync(app =>
        {
            app.UseMiddleware<DirectusErrorMiddleware>();
            app.MapGatewayProxy();
        }, builder =>
        {
            builder.Configuration.AddJsonFile(GatewayConfig.AppSettingsPath());
            config.Values["ConnectionStrings:redis"] = servers.RedisConnectionString;
            builder.Configuration.AddInMemoryCollection(config.Values);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddServiceDiscovery(); // AddServiceDefaults' part the proxy needs
            builder.Services.AddSingleton<IAccessDirectory, GatewayUsers>();
            builder.AddRedis();
            builder.AddAccess();
            builder.AddGatewayProxy();
            configure?.Invoke(builder);
        });

    /// <summary>A client of this app; with a token, every request carries it as <c>Authorization: Bearer</c>.</summary>
    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, ActivityHeadersPropagator = null })
        {
            BaseAddress = Address,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The gateway's configuration besides its appsettings.json, in its real keys.</summary>
internal sealed class GatewayConfig
{
    public Dictionary<string, string?> Values { get; } = new()
    {
        ["Auth:JwtKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        ["Internal:Token"] = "gateway-test-internal",
    };

    /// <summary>Replicas of a service, as Aspire passes them: <c>services:{name}:http:0..N-1</c>.</summary>
    public GatewayConfig Service(string name, params LoopbackApp[] replicas) =>
        Service(name, replicas.Select(r => r.Address.ToString()).ToArray());

    public GatewayConfig Service(string name, params string[] addresses)
    {
        for (var i = 0; i < addresses.Length; i++) Values[$"services:{name}:http:{i}"] = addresses[i];
        return this;
    }

    public GatewayConfig AiDisabled()
    {
        Values["AI_ENABLED"] = "false";
        return this;
    }

    public static string AppSettingsPath([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "../../../Gateway/appsettings.json"));
}

/// <summary>The users the gateway's access gate knows in these tests, by static token.</summary>
internal sealed class GatewayUsers : IAccessDirectory
{
    public const string AppUserToken = "gateway-test-app-user";
    public const string SuspendedUserToken = "gateway-test-suspended-user";

    public Task<UserAccess?> FindUserAsync(string userId, CancellationToken ct) => Task.FromResult<UserAccess?>(null);

    public Task<UserAccess?> FindByStaticTokenAsync(string tokenSha256, CancellationToken ct) => Task.FromResult(
        tokenSha256 == CallerResolver.Sha256Hex(AppUserToken) ? new UserAccess("gateway-app-user", null, Admin: false, App: true, UserAccess.Active)
        : tokenSha256 == CallerResolver.Sha256Hex(SuspendedUserToken) ? new UserAccess("gateway-suspended-user", null, Admin: false, App: true, "suspended")
        : null);
}
