using System.Text;

namespace AiAssistant.AppHost.Servers;

/// <summary>Debian's redis-server as an executable resource (a cache: nothing in it must survive a restart).</summary>
public sealed class RedisServerResource(string name, string workingDirectory)
    : ExecutableResource(name, "redis-server", workingDirectory), IResourceWithConnectionString
{
    public EndpointReference Primary => new(this, "tcp");

    /// <summary>StackExchange.Redis configuration: <c>127.0.0.1:port</c>.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Primary.Property(EndpointProperty.IPV4Host)}:{Primary.Property(EndpointProperty.Port)}");
}

public static class RedisServerExtensions
{
    /// <summary>redis-server on 127.0.0.1, on a port Aspire chooses; healthy once it answers PING with PONG.</summary>
    public static IResourceBuilder<RedisServerResource> AddRedisServer(this IDistributedApplicationBuilder builder, string name, string dataFolder)
    {
        var folder = Directory.CreateDirectory(Path.Combine(dataFolder, name)).FullName;
        var redis = builder.AddResource(new RedisServerResource(name, folder))
            .WithEndpoint(name: "tcp", scheme: "tcp", isProxied: false);
        var endpoint = redis.Resource.Primary;
        return redis
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
                foreach (var arg in new[] { "--bind", "127.0.0.1", "--protected-mode", "yes", "--dir", folder, "--save", "", "--appendonly", "no" })
                    context.Args.Add(arg);
            })
            .WithReadinessCheck(async ct =>
            {
                var answer = await ServerHealthChecks.ExchangeAsync(endpoint.Port, "PING\r\n"u8.ToArray(), ct).ConfigureAwait(false);
                return Encoding.ASCII.GetString(answer).StartsWith("+PONG", StringComparison.Ordinal) ? null : "no PONG";
            });
    }
}
