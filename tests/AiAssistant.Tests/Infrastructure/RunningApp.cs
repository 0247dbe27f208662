using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using AiAssistant.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>
/// The real AppHost started through Aspire.Hosting.Testing (DCP runs every server and service as its own process), in a
/// data folder of its own, with every resource's log lines collected for the tests' leak checks.
/// </summary>
public sealed class RunningApp : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);
    private readonly ConcurrentQueue<string> lines = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> instances = new();
    private readonly CancellationTokenSource stopping = new();

    private RunningApp(DistributedApplication app, string dataFolder, OtlpSink telemetry)
    {
        App = app;
        DataFolder = dataFolder;
        Telemetry = telemetry;
    }

    public DistributedApplication App { get; }
    public string DataFolder { get; }

    /// <summary>Where every service exports its traces, metrics and logs (the dashboard's place under ./run.sh).</summary>
    public OtlpSink Telemetry { get; }
    public ResourceNotificationService Notifications => App.Services.GetRequiredService<ResourceNotificationService>();

    /// <summary>
    /// Starts the AppHost with <paramref name="args"/> (plus a fresh data folder and fast, non-durable PostgreSQL) and
    /// waits until <paramref name="waitFor"/> are healthy. <paramref name="configure"/> may change resources first.
    /// </summary>
    public static async Task<RunningApp> StartAsync(string dataFolder, IEnumerable<string> args, IEnumerable<string> waitFor,
        Action<IDistributedApplicationTestingBuilder>? configure = null)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--data", dataFolder, "--durable", "false", .. args], timeout.Token);
        // what the resources log is collected below; the host's own console gets only its warnings
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            // the testing host forwards each resource's output as "{AppHost}.Resources.{name}", stderr as errors
            .AddFilter("AppHost.Resources", LogLevel.None));
        // The testing host runs no dashboard: telemetry goes to a receiver of our own instead of a port nobody listens on.
        var telemetry = await OtlpSink.StartAsync();
        foreach (var resource in builder.Resources.OfType<IResourceWithEnvironment>().Where(r => r.HasAnnotationOfType<OtlpExporterAnnotation>()).ToList())
            builder.CreateResourceBuilder(resource).WithEnvironment(context =>
            {
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = telemetry.Endpoint;
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            });
        configure?.Invoke(builder);
        var app = await builder.BuildAsync(timeout.Token);
        var running = new RunningApp(app, dataFolder, telemetry);
        running.CollectLogs();
        try
        {
            await app.StartAsync(timeout.Token);
            foreach (var name in waitFor) await running.Notifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }
        catch (Exception e)
        {
            var logs = string.Join("\n", running.lines.TakeLast(60));
            await running.DisposeAsync();
            throw new InvalidOperationException($"The app did not become healthy ({e.GetType().Name}: {e.Message}). Last log lines:\n{logs}", e);
        }
        return running;
    }

    /// <summary>Raised for every line a resource logs ("resource: line"), as it arrives.</summary>
    public event Action<string>? LineAdded;

    /// <summary>
    /// The process ids of a resource's running instances (one per replica). For a project that is the service's own
    /// process: DCP reports the <c>dotnet run</c> wrapper it started, whose child the service is.
    /// </summary>
    public IReadOnlyList<int> Pids(string resource) =>
        ResourceIds(resource)
            .Select(id => Notifications.TryGetCurrentState(id, out var e)
                ? e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value : null)
            .Select(ServicePid)
            .Where(pid => pid > 0)
            .ToList();

    /// <summary>Every line any resource logged so far ("resource: line").</summary>
    public IReadOnlyList<string> Lines => [.. lines];

    /// <summary>The log lines that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> Find(string text) => lines.Where(l => l.Contains(text, StringComparison.Ordinal)).ToList();

    public async Task<string> ConnectionStringAsync(string resource) =>
        await App.GetConnectionStringAsync(resource) ?? throw new InvalidOperationException($"{resource} has no connection string");

    /// <summary>The address of <paramref name="resource"/>'s endpoint, with 127.0.0.1 for localhost.</summary>
    public string Url(string resource, string endpoint = "http") =>
        App.GetEndpoint(resource, endpoint).ToString().TrimEnd('/').Replace("localhost", "127.0.0.1", StringComparison.Ordinal);

    /// <summary>A generated secret of the data folder (<c>internal.token</c>, <c>admin.token</c>, …).</summary>
    public string Secret(string file) => File.ReadAllText(Path.Combine(DataFolder, "secrets", file)).Trim();

    /// <summary>
    /// Each running replica of <paramref name="service"/> by its own address (not the proxy in front of them), read from
    /// the Kestrel address Aspire gave that replica.
    /// </summary>
    public IReadOnlyList<string> ReplicaUrls(string service)
    {
        var urls = new List<string>();
        foreach (var id in ResourceIds(service))
            if (Notifications.TryGetCurrentState(id, out var e) && e.Snapshot.State?.Text == KnownResourceStates.Running &&
                e.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "Kestrel__Endpoints__http__Url")?.Value is { } url)
                urls.Add(url.Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        return urls;
    }

    /// <summary>Stops a resource through the app (as the dashboard's Stop does) and waits until it has exited.</summary>
    public async Task StopAsync(string resource)
    {
        foreach (var id in ResourceIds(resource))
        {
            var result = await App.ResourceCommands.ExecuteCommandAsync(id, KnownResourceCommands.StopCommand);
            if (!result.Success) throw new InvalidOperationException($"stopping {id} failed: {result.Message}");
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await Notifications.WaitForResourceAsync(resource, e => e.ResourceId == id && KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), timeout.Token);
        }
    }

    /// <summary>Starts a stopped resource again and waits until it is healthy.</summary>
    public async Task StartAsync(string resource)
    {
        foreach (var id in ResourceIds(resource))
        {
            var result = await App.ResourceCommands.ExecuteCommandAsync(id, KnownResourceCommands.StartCommand);
            if (!result.Success) throw new InvalidOperationException($"starting {id} failed: {result.Message}");
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Notifications.WaitForResourceHealthyAsync(resource, timeout.Token);
    }

    /// <summary>A resource's running instances (one per replica): DCP's id, the service's process and its own address.</summary>
    public IReadOnlyList<Instance> Instances(string resource) =>
        ResourceIds(resource)
            .Select(id => Notifications.TryGetCurrentState(id, out var e) && e.Snapshot.State?.Text == KnownResourceStates.Running ? e : null)
            .OfType<ResourceEvent>()
            .Select(e => new Instance(e.ResourceId,
                ServicePid(e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value),
                e.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "Kestrel__Endpoints__http__Url")?.Value?.Replace("localhost", "127.0.0.1", StringComparison.Ordinal)))
            .OrderBy(i => i.Id, StringComparer.Ordinal)
            .ToList();

    public sealed record Instance(string Id, int Pid, string? HttpUrl);

    /// <summary>Kills one instance's process (as a crash or the OOM killer would) and waits until DCP sees it gone.</summary>
    public async Task KillAsync(Instance instance)
    {
        using (var process = System.Diagnostics.Process.GetProcessById(instance.Pid)) process.Kill(entireProcessTree: true);
        await WaitForInstanceAsync(instance, s => KnownResourceStates.TerminalStates.Contains(s.State?.Text), TimeSpan.FromMinutes(1));
    }

    /// <summary>Stops one instance through the app (SIGTERM, as the dashboard's Stop does) and waits until it has exited.</summary>
    public async Task StopInstanceAsync(Instance instance)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(instance.Id, KnownResourceCommands.StopCommand);
        if (!result.Success) throw new InvalidOperationException($"stopping {instance.Id} failed: {result.Message}");
        await WaitForInstanceAsync(instance, s => KnownResourceStates.TerminalStates.Contains(s.State?.Text), TimeSpan.FromMinutes(1));
    }

    /// <summary>Starts one stopped or killed instance again and waits until it is healthy.</summary>
    public async Task StartInstanceAsync(Instance instance)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(instance.Id, KnownResourceCommands.StartCommand);
        if (!result.Success) throw new InvalidOperationException($"starting {instance.Id} failed: {result.Message}");
        await WaitForInstanceAsync(instance, s => s.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, TimeSpan.FromMinutes(2));
    }

    private async Task WaitForInstanceAsync(Instance instance, Func<CustomResourceSnapshot, bool> state, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var resource = instances.First(r => r.Value.ContainsKey(instance.Id)).Key;
        await Notifications.WaitForResourceAsync(resource, e => e.ResourceId == instance.Id && state(e.Snapshot), timeout.Token);
    }

    /// <summary>The service's own process: DCP reports the <c>dotnet run</c> wrapper it started, whose child the service is.</summary>
    private static int ServicePid(object? value)
    {
        var pid = value is null ? 0 : Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
        return pid > 0 && ProcessScan.CommandLine(pid).StartsWith("dotnet run ", StringComparison.Ordinal) ? ProcessScan.Children(pid).FirstOrDefault(pid) : pid;
    }

    /// <summary>The DCP ids of a resource's instances (a replicated project has one per replica), as notified so far.</summary>
    private IReadOnlyList<string> ResourceIds(string resource) =>
        instances.TryGetValue(resource, out var ids) ? [.. ids.Keys] : throw new InvalidOperationException($"no resource {resource} was seen");

    private void CollectLogs()
    {
        var logs = App.Services.GetRequiredService<ResourceLoggerService>();
        _ = Task.Run(async () =>
        {
            var watched = new HashSet<string>();
            await foreach (var e in Notifications.WatchAsync(stopping.Token).ConfigureAwait(false))
            {
                instances.GetOrAdd(e.Resource.Name, _ => new())[e.ResourceId] = true;
                if (watched.Add(e.ResourceId)) _ = FollowAsync(logs, e.ResourceId);
            }
        });
    }

    private async Task FollowAsync(ResourceLoggerService logs, string resourceId)
    {
        try
        {
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(stopping.Token).ConfigureAwait(false))
                foreach (var line in batch)
                {
                    var text = $"{resourceId}: {line.Content}";
                    lines.Enqueue(text);
                    LineAdded?.Invoke(text);
                }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await stopping.CancelAsync();
        await App.DisposeAsync();
        await Telemetry.DisposeAsync();
        stopping.Dispose();
    }
}
