using AiAssistant.Gateway.Access;
using Yarp.ReverseProxy.Transforms;

namespace AiAssistant.Gateway.Proxy;

public static class ProxyExtensions
{
    // a destination that does not accept a connection within this is taken out of rotation (ConnectFailures)
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// YARP with the routes and clusters of the <c>ReverseProxy</c> section (appsettings.json). Destinations are
    /// service names (<c>http://chat</c>) that service discovery turns into addresses, from Aspire's
    /// <c>services:chat:http:0..N-1</c>. Under the AppHost that is one address, DCP's proxy in front of the Chat
    /// replicas, which balances connections (as a Kubernetes Service does); given several, YARP takes turns.
    /// Every cluster probes its destinations' <c>/health</c> each second (active health checks) and takes one that
    /// cannot be connected to out of rotation at once (passive, <see cref="ConnectFailureHealthPolicy"/>).
    /// </summary>
    public static WebApplicationBuilder AddGatewayProxy(this WebApplicationBuilder builder)
    {
        // YARP logs every forwarded URL at Information, query included, and a query may carry an access_token.
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        builder.Services.AddSingleton<Yarp.ReverseProxy.Health.IPassiveHealthCheckPolicy, ConnectFailureHealthPolicy>();
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver()
            .ConfigureHttpClient((_, handler) => handler.ConnectTimeout = ConnectTimeout)
            .AddTransforms(context => context
                // Settings rate-limits sign-ins by the last X-Forwarded-For entry, so the gateway appends the peer it saw.
                .AddXForwardedFor(action: ForwardedTransformActions.Append)
                .AddXForwardedProto()
                .AddXForwardedHost()
                .AddXForwardedPrefix()
                .AddRequestHeaderRemove("Forwarded"));
        return builder;
    }

    /// <summary>
    /// Every route of the table, behind the access gate (<see cref="GatewayAccess"/>, which also hides /ai when
    /// AI_ENABLED=false) and with YARP's failures answered in the Directus envelope (<see cref="ForwarderErrors"/>).
    /// A path no route matches gets ServiceDefaults' ROUTE_NOT_FOUND.
    /// </summary>
    public static IEndpointConventionBuilder MapGatewayProxy(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<GatewayAccess>();
            proxy.UseMiddleware<ForwarderErrors>();
            proxy.UseMiddleware<RequestBodyLimits>();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UseMiddleware<ConnectFailures>(); // around the passive check, so a retry sees the failed one marked
            proxy.UsePassiveHealthChecks();
        });
}
