namespace AiAssistant.AppHost.Servers;

/// <summary>Debian's RabbitMQ (the server script itself, not the /usr/sbin wrapper that switches user and folders).</summary>
public sealed class RabbitMqServerResource(string name, string workingDirectory)
    : ExecutableResource(name, "/usr/lib/rabbitmq/bin/rabbitmq-server", workingDirectory), IResourceWithConnectionString
{
    public EndpointReference Primary => new(this, "amqp");

    /// <summary>An AMQP URI: <c>amqp://guest:guest@127.0.0.1:port/</c> (guest is accepted over loopback only).</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"amqp://guest:guest@{Primary.Property(EndpointProperty.IPV4Host)}:{Primary.Property(EndpointProperty.Port)}/");
}

public static class RabbitMqServerExtensions
{
    /// <summary>The AMQP 0-9-1 protocol header; a booted broker answers it with Connection.Start (a method frame, type 1).</summary>
    private static readonly byte[] AmqpHeader = "AMQP\0\0\u0009\u0001"u8.ToArray();

    /// <summary>
    /// RabbitMQ without plugins, every port on 127.0.0.1, its data in the data folder. Erlang's port mapper (epmd) is a
    /// resource of its own, so that nothing outlives the app.
    /// </summary>
    public static IResourceBuilder<RabbitMqServerResource> AddRabbitMqServer(this IDistributedApplicationBuilder builder, string name, string dataFolder)
    {
        var folder = Directory.CreateDirectory(Path.Combine(dataFolder, name)).FullName;
        foreach (var sub in new[] { "home", "mnesia", "log" }) Directory.CreateDirectory(Path.Combine(folder, sub));
        File.WriteAllText(Path.Combine(folder, "enabled_plugins"), "[].\n"); // no management plugin: starts faster

        var epmd = builder.AddExecutable($"{name}-epmd", "epmd", folder, "-address", "127.0.0.1")
            .WithEndpoint(name: "tcp", scheme: "tcp", env: "ERL_EPMD_PORT", isProxied: false);
        var rabbit = builder.AddResource(new RabbitMqServerResource(name, folder))
            .WithEndpoint(name: "amqp", scheme: "tcp", env: "RABBITMQ_NODE_PORT", isProxied: false)
            // the Erlang distribution port; its default (AMQP port + 20000) is invalid above 45535
            .WithEndpoint(name: "dist", scheme: "tcp", env: "RABBITMQ_DIST_PORT", isProxied: false)
            .WithEnvironment("ERL_EPMD_PORT", epmd.GetEndpoint("tcp").Property(EndpointProperty.TargetPort))
            .WithEnvironment("ERL_EPMD_ADDRESS", "127.0.0.1")
            .WithEnvironment("HOME", Path.Combine(folder, "home")) // the Erlang cookie lives here
            .WithEnvironment("RABBITMQ_NODENAME", $"{name}@localhost")
            .WithEnvironment("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            // the distribution port on loopback only; never an epmd of its own (one started by Erlang outlives the app)
            .WithEnvironment("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false")
            .WithEnvironment("RABBITMQ_MNESIA_BASE", Path.Combine(folder, "mnesia"))
            .WithEnvironment("RABBITMQ_LOG_BASE", Path.Combine(folder, "log"))
            .WithEnvironment("RABBITMQ_LOGS", "-") // to standard output: the dashboard shows it
            .WithEnvironment("RABBITMQ_ENABLED_PLUGINS_FILE", Path.Combine(folder, "enabled_plugins"))
            .WithEnvironment("RABBITMQ_CONFIG_FILE", Path.Combine(folder, "rabbitmq"))
            .WithEnvironment("RABBITMQ_ADVANCED_CONFIG_FILE", Path.Combine(folder, "advanced.config"))
            .WithEnvironment("RABBITMQ_CONF_ENV_FILE", Path.Combine(folder, "rabbitmq-env.conf"))
            .WithEnvironment("RABBITMQ_PID_FILE", Path.Combine(folder, "rabbit.pid"))
            .WaitFor(epmd);
        epmd.WithParentRelationship(rabbit);
        var amqp = rabbit.Resource.Primary;
        return rabbit.WithReadinessCheck(async ct =>
        {
            var answer = await ServerHealthChecks.ExchangeAsync(amqp.Port, AmqpHeader, ct).ConfigureAwait(false);
            return answer.Length > 0 && answer[0] == 1 ? null : "no AMQP Connection.Start";
        });
    }
}
