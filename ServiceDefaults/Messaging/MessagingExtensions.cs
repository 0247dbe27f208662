using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AiAssistant.ServiceDefaults.Messaging;

public static class MessagingExtensions
{
    /// <summary>
    /// MassTransit 8 over RabbitMQ from ConnectionStrings:rabbitmq. <paramref name="endpoints"/> declares the service's
    /// own receive endpoints; MassTransit registers its bus health check with the others.
    /// </summary>
    public static WebApplicationBuilder AddMessaging(this WebApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? consumers = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? endpoints = null)
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

    /// <summary>The outbox table, its dispatcher and the signal that wakes it after a commit.</summary>
    public static WebApplicationBuilder AddOutbox(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Data.IDatabaseSchema, OutboxSchema>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<OutboxDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        return builder;
    }
}
