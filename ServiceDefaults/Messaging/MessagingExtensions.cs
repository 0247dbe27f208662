using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiAssistant.ServiceDefaults.Messaging;

public static class MessagingExtensions
{
    /// <summary>How long RabbitMQ keeps a replica's queue that nobody reads (the replica stopped): then it deletes it.</summary>
    public static readonly TimeSpan ReplicaQueueExpiry = TimeSpan.FromMinutes(5);

    /// <summary>Unique to this process: replica queues carry it, so a restarted replica never reads its predecessor's queue.</summary>
    public static readonly string InstanceId = Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// MassTransit 8 over RabbitMQ from ConnectionStrings:rabbitmq. <paramref name="endpoints"/> declares the service's
    /// own receive endpoints. MassTransit adds its bus health check ("masstransit-bus") to /health, and its traces carry
    /// the publisher's trace context to the consumer.
    /// </summary>
    public static TBuilder AddMessaging<TBuilder>(this TBuilder builder,
        Action<IBusRegistrationConfigurator>? consumers = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? endpoints = null) where TBuilder : Microsoft.Extensions.Hosting.IHostApplicationBuilder
    {
        var uri = new Uri(builder.Configuration.RequiredConnectionString(ResourceNames.RabbitMq));
        builder.Services.AddMassTransit(x =>
        {
            consumers?.Invoke(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(uri, h =>
                {
                    var userInfo = uri.UserInfo.Split(':', 2);
                    h.Username(Uri.UnescapeDataString(userInfo[0] is { Length: > 0 } u ? u : "guest"));
                    h.Password(Uri.UnescapeDataString(userInfo.Length > 1 ? userInfo[1] : "guest"));
                    h.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
                });
                endpoints?.Invoke(context, cfg);
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            // Start without waiting for the broker: the outbox keeps events until it is back.
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(5);
        });
        return builder;
    }

    /// <summary>
    /// A receive endpoint that only this process reads, so that every replica hears every event: the queue is
    /// <c>{name}-{InstanceId}</c>, durable (it outlives a broker restart with its bindings, so events published while
    /// this replica reconnects wait for it), and expires <see cref="ReplicaQueueExpiry"/> after its last reader went,
    /// so queues of stopped replicas do not pile up across restarts.
    /// </summary>
    public static void ReplicaReceiveEndpoint(this IRabbitMqBusFactoryConfigurator cfg, string name,
        Action<IRabbitMqReceiveEndpointConfigurator> configure) =>
        cfg.ReceiveEndpoint($"{name}-{InstanceId}", e =>
        {
            e.Durable = true;
            e.AutoDelete = false;
            e.QueueExpiration = ReplicaQueueExpiry;
            configure(e);
        });

    /// <summary>The outbox table, its dispatcher and the signal that wakes it after a commit.</summary>
    public static TBuilder AddOutbox<TBuilder>(this TBuilder builder) where TBuilder : Microsoft.Extensions.Hosting.IHostApplicationBuilder
    {
        builder.Services.AddSingleton<Data.IDatabaseSchema, OutboxSchema>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<OutboxDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        return builder;
    }
}
