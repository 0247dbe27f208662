using AiAssistant.Gateway.Forwarding;
using AiAssistant.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiAssistant.Tests.Gateway;

/// <summary>A Kestrel app on a free 127.0.0.1 port, in this process: an upstream service, or the gateway's pipeline.</summary>
internal sealed class LoopbackApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackApp(WebApplication app)
    {
        _app = app;
        Address = new Uri(app.Urls.Single());
    }

    public Uri Address { get; }

    public static async Task<LoopbackApp> StartAsync(Action<WebApplication> map, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Services.AddRouting();
        // A test that leaves a request hanging must not hold up its own clean-up.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        configure?.Invoke(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new LoopbackApp(app);
    }

    /// <summary>An upstream that answers every path with <paramref name="handler"/>.</summary>
    public static Task<LoopbackApp> UpstreamAsync(RequestDelegate handler) =>
        StartAsync(app => app.Map("/{**path}", handler));

    /// <summary>
    /// The gateway's forwarding as Program.cs wires it (behind ServiceDefaults' error middleware), over in-memory
    /// configuration; <paramref name="before"/> adds middleware ahead of it, where the gateway's access check goes.
    /// </summary>
    public static Task<LoopbackApp> GatewayAsync(GatewayConfig config, Action<WebApplication>? before = null,
        Action<WebApplicationBuilder>? configure = null) =>
        StartAsync(app =>
        {
            app.UseMiddleware<DirectusErrorMiddleware>();
            before?.Invoke(app);
            app.MapForwardedRoutes();
        }, builder =>
        {
            builder.Configuration.AddInMemoryCollection(config.Values);
            builder.Services.AddGatewayForwarding(builder.Configuration);
            configure?.Invoke(builder);
        });

    public HttpClient Client() => new(new SocketsHttpHandler { UseProxy = false, ActivityHeadersPropagator = null })
    {
        BaseAddress = Address,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Gateway configuration in its real keys: <c>Gateway:Routes:{i}:Prefix/Service</c>, <c>services:{name}:http:{i}</c>.</summary>
internal sealed class GatewayConfig
{
    private int _routes;

    public Dictionary<string, string?> Values { get; } = [];

    public GatewayConfig Route(string prefix, string service)
    {
        Values[$"{RouteTable.RoutesSection}:{_routes}:Prefix"] = prefix;
        Values[$"{RouteTable.RoutesSection}:{_routes}:Service"] = service;
        _routes++;
        return this;
    }

    public GatewayConfig Service(string name, params LoopbackApp[] replicas) =>
        Service(name, replicas.Select(r => r.Address.ToString()).ToArray());

    public GatewayConfig Service(string name, params string[] addresses)
    {
        for (var i = 0; i < addresses.Length; i++) Values[$"services:{name}:http:{i}"] = addresses[i];
        return this;
    }
}
