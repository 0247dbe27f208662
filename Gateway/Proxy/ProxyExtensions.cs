using AiAssistant.Gateway.Access;
using Yarp.ReverseProxy.Transforms;

namespace AiAssistant.Gateway.Proxy;

public static class ProxyExtensions
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// YARP with the routes and clusters of the <c>ReverseProxy</c> section (appsettings.json). Destinations are
    /// service names (<c>http://chat</c>) that service discovery turns into addresses, from Aspire's
    /// <c>services:chat:http:0..N-1</c>. Under the AppHost that is one address, DCP's proxy in front of the Chat
    /// replicas, which balances connections (as a Kubernetes Service does); given several, YARP takes turns.
    /// </summary>
    public static WebApplicationBuilder AddGatewayProxy(this WebApplicationBuilder builder)
    {
        // YARP logs every forwarded URL at Information, query included, and a query may carry an access_token.
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
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
            proxy.UsePassiveHealthChecks();
        });
}
