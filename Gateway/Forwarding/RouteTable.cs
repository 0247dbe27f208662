using System.Text.RegularExpressions;

namespace AiAssistant.Gateway.Forwarding;

/// <summary>
/// The gateway's route table (<c>Gateway:Routes</c>, an array of <c>{ "Prefix": "/ai", "Service": "chat" }</c>) and the
/// replicas of every service it names (<c>services:{service}:http:{i}</c>, Aspire's keys). Read once at start.
/// </summary>
public sealed partial class RouteTable
{
    public const string RoutesSection = "Gateway:Routes";

    private readonly Dictionary<string, ServiceReplicas> _replicas;

    private RouteTable(IReadOnlyList<GatewayRoute> routes, Dictionary<string, ServiceReplicas> replicas)
    {
        Routes = routes;
        _replicas = replicas;
    }

    public IReadOnlyList<GatewayRoute> Routes { get; }

    /// <summary>The replicas of a service the table names; one instance per service, so its routes share the turn-taking.</summary>
    public ServiceReplicas ReplicasOf(string service) => _replicas[service];

    public static RouteTable Load(IConfiguration configuration)
    {
        var routes = new List<GatewayRoute>();
        var replicas = new Dictionary<string, ServiceReplicas>(StringComparer.Ordinal);
        var prefixes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var row in configuration.GetSection(RoutesSection).GetChildren())
        {
            var prefix = row["Prefix"];
            var service = row["Service"];
            if (prefix is null || !PrefixShape().IsMatch(prefix))
                throw new InvalidOperationException(
                    $"{RoutesSection}:{row.Key}:Prefix is \"{prefix}\"; it must be a path of one or more segments such as /ai or /ai/chat, without a trailing slash.");
            if (string.IsNullOrWhiteSpace(service) || service.Contains(':'))
                throw new InvalidOperationException($"{RoutesSection}:{row.Key}:Service must name a service, such as chat.");
            if (!prefixes.Add(prefix))
                throw new InvalidOperationException($"{RoutesSection} lists the prefix {prefix} twice.");
            routes.Add(new GatewayRoute(prefix, service));
            if (!replicas.ContainsKey(service))
                replicas[service] = ServiceReplicas.FromConfiguration(configuration, service);
        }
        if (routes.Count == 0)
            throw new InvalidOperationException($"{RoutesSection} is empty: the gateway would answer every request with 404.");
        return new RouteTable(routes, replicas);
    }

    [GeneratedRegex("^(/[A-Za-z0-9_~.-]+)+$")]
    private static partial Regex PrefixShape();
}
