namespace AiAssistant.Gateway.Forwarding;

public static partial class ForwardingExtensions
{
    /// <summary>Reads the route table and the services' addresses, and registers the forwarder.</summary>
    public static IServiceCollection AddGatewayForwarding(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRouting();
        services.AddSingleton(_ => RouteTable.Load(configuration));
        services.AddSingleton<StreamingForwarder>();
        return services;
    }

    /// <summary>
    /// Maps <c>{prefix}/{**rest}</c> for every row of the route table, each forwarding to its service and carrying its
    /// <see cref="GatewayRoute"/> as metadata. Endpoint routing picks the longest matching prefix, whole segments only;
    /// a path no prefix covers matches no endpoint, and ServiceDefaults' error middleware answers it with
    /// ROUTE_NOT_FOUND. The result applies conventions to every forwarded route.
    /// </summary>
    public static IEndpointConventionBuilder MapForwardedRoutes(this IEndpointRouteBuilder endpoints)
    {
        var table = endpoints.ServiceProvider.GetRequiredService<RouteTable>();
        var forwarder = endpoints.ServiceProvider.GetRequiredService<StreamingForwarder>();
        var logger = endpoints.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RouteTable));

        var group = endpoints.MapGroup("");
        foreach (var route in table.Routes)
        {
            var replicas = table.ReplicasOf(route.Service);
            if (replicas.Addresses.Count == 0) LogNoAddress(logger, route.Prefix, route.Service);
            RequestDelegate forward = context => forwarder.ForwardAsync(context, replicas);
            group.Map(route.Prefix + "/{**rest}", forward)
                .WithMetadata(route)
                .WithDisplayName($"{route.Prefix} → {route.Service}");
        }
        return group;
    }

    /// <summary>The route-table row this request matched, or null (not a forwarded route).</summary>
    public static GatewayRoute? GetGatewayRoute(this HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<GatewayRoute>();

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Route {Prefix} goes to service {Service}, which has no address (services:{Service}:http:0); its requests will get 502")]
    private static partial void LogNoAddress(ILogger logger, string prefix, string service);
}
