using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiAssistant.AppHost.Hosting;

/// <summary>
/// The gateway addresses each replica of a replicated service directly, not through DCP's proxy: the proxy accepts
/// a connection even when the replica behind it is dead, and keeps sending to a replica that came back only on new
/// connections, so YARP's health checks would probe the proxy and see nothing (measured: a killed replica's requests
/// failed, and a restarted one got no traffic for a minute). The gateway gets <c>services__{name}__http__{i}</c> for
/// each replica, as DCP's snapshots of the replicas give their ports, when the gateway starts (it waits for the
/// service, so every replica has its port by then); service discovery turns them into one YARP destination each.
/// </summary>
public static class ReplicaAddresses
{
    private const string KestrelUrl = "Kestrel__Endpoints__http__Url";

    public static IResourceBuilder<ProjectResource> WithReplicaAddresses(this IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ProjectResource> service)
    {
        var replicas = new ConcurrentDictionary<string, string>(); // DCP's replica name → its own http address
        gateway.ApplicationBuilder.Eventing.Subscribe<BeforeStartEvent>((e, ct) =>
        {
            var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
            var stopping = e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            _ = Task.Run(async () =>
            {
                try
                {
                    await foreach (var change in notifications.WatchAsync(stopping))
                        if (change.Resource == service.Resource
                            && change.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == KestrelUrl)?.Value is { Length: > 0 } url)
                            replicas[change.ResourceId] = url;
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
            }, stopping);
            return Task.CompletedTask;
        });

        return gateway.WaitFor(service).WithEnvironment(context =>
        {
            if (context.ExecutionContext.IsPublishMode)
            {
                // a published deployment has one address per service (a Kubernetes Service), as WithReference gives it
                context.EnvironmentVariables[$"services__{service.Resource.Name}__http__0"] = service.GetEndpoint("http");
                return;
            }
            var index = 0;
            foreach (var (_, url) in replicas.OrderBy(r => r.Key, StringComparer.Ordinal))
                context.EnvironmentVariables[$"services__{service.Resource.Name}__http__{index++}"] = url;
            if (index == 0) throw new InvalidOperationException($"no replica of {service.Resource.Name} has an address yet");
        });
    }
}
