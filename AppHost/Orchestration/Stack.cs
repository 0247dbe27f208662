using System.Diagnostics;
using AiAssistant.AppHost.Hosting;
using AiAssistant.AppHost.Processes;
using AiAssistant.AppHost.Resources;
using AiAssistant.Contracts;

namespace AiAssistant.AppHost.Orchestration;

/// <summary>
/// The whole system, Aspire-style: servers and services as resources with references (environment variables in
/// Aspire's key shape) and wait-for (a resource starts once those it waits for are healthy).
/// <code>
/// await using var stack = await Stack.StartAsync(new StackOptions { UseServers = fixture.Servers, GatewayPort = 0 });
/// var http = new HttpClient { BaseAddress = new Uri(stack.GatewayUrl) };
/// </code>
/// </summary>
public sealed partial class Stack : IAsyncDisposable
{
    private readonly StackOptions options;
    private readonly bool ownsServers;
    private readonly bool ownsDataFolder;
    private readonly List<ServiceResource> services = [];
    private readonly object stopGate = new();
    private FileStream? dataLock;
    private Task? stopping;
    private Exception? firstFailure;

    private Stack(StackOptions options)
    {
        this.options = options;
        Layout = BuildLayout.Detect(options.ArtifactsPath, options.Configuration);
        ownsServers = options.UseServers is null;
        ownsDataFolder = options.DataFolder is null && !ownsServers;
        DataFolder = Path.GetFullPath(options.DataFolder
            ?? (ownsServers ? Path.Combine(Layout.RepoRoot, ".data") : Path.Combine(Path.GetTempPath(), $"aiassistant-stack-{Guid.NewGuid():N}")));
        Directory.CreateDirectory(DataFolder);
        Secrets = StackSecrets.LoadOrCreate(DataFolder);
        Servers = options.UseServers ?? new ServerSet(DataFolder,
            options.ServerOptions with { LogSink = options.ServerOptions.LogSink + Logs.Append });
        AddServices();
    }

    public BuildLayout Layout { get; }
    public string DataFolder { get; }
    public StackSecrets Secrets { get; }
    public LogStore Logs { get; } = new();
    public ServerSet Servers { get; }
    public PostgresServer Postgres => Servers.Postgres;
    public RedisServer Redis => Servers.Redis;
    public RabbitMqServer RabbitMq => Servers.RabbitMq;
    public IReadOnlyList<ServiceResource> Services => services;
    public ServiceResource Settings => Service(ResourceNames.Settings);
    public ServiceResource Tools => Service(ResourceNames.Tools);
    public IReadOnlyList<ServiceResource> ChatReplicas => services.Where(s => s.ServiceName == ResourceNames.Chat).ToList();
    public ServiceResource Gateway => Service(ResourceNames.Gateway);
    public string GatewayUrl => Gateway.HttpUrl;
    /// <summary>Servers then services, in start order.</summary>
    public IReadOnlyList<IResource> Resources => [.. Servers.All, .. services];

    /// <summary>A service process crashed after it was healthy (it is not restarted).</summary>
    public event Action<ServiceResource>? ServiceFailed;

    /// <summary>The start failed (raised before everything is stopped, then the exception is thrown).</summary>
    public event Action<Exception>? StartFailed;

    /// <summary>Builds the model (ports, environment) without starting anything.</summary>
    public static Stack Create(StackOptions options) => new(options);

    /// <summary>Creates and starts a stack; on failure everything started is stopped again and the failure thrown.</summary>
    public static async Task<Stack> StartAsync(StackOptions options, CancellationToken cancellationToken = default)
    {
        var stack = Create(options);
        await stack.StartAsync(cancellationToken).ConfigureAwait(false);
        return stack;
    }

    /// <summary>
    /// Starts the servers, then each service once what it waits for is healthy. Throws
    /// <see cref="ResourceFailedException"/> (after stopping everything) when a resource fails to start.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ready = new Dictionary<IResource, Task>();
        try
        {
            LockDataFolder();
            // a launcher killed with SIGKILL leaves its services and servers running: end them, they hold our ports
            await ProcessSweeper.KillAsync(ownsServers
                    ? mark => mark.StartsWith(DataFolder + "#", StringComparison.Ordinal) || mark.StartsWith(DataFolder + "/", StringComparison.Ordinal)
                    : mark => mark.StartsWith(DataFolder + "#", StringComparison.Ordinal),
                TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            CheckBuilt();
            var servers = GuardAsync(StartServersAsync, failFast);
            foreach (var server in Servers.All) ready[server] = servers;
            foreach (var service in services)
            {
                var waitFor = service.WaitFor.Select(r => ready[r]).ToArray();
                ready[service] = GuardAsync(async token =>
                {
                    await Task.WhenAll(waitFor).ConfigureAwait(false);
                    await StartServiceCoreAsync(service, token).ConfigureAwait(false);
                }, failFast);
            }
            await Task.WhenAll(ready.Values.Distinct()).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var failure = firstFailure ?? e;
            if (!cancellationToken.IsCancellationRequested || firstFailure is not null) StartFailed?.Invoke(failure);
            await StopAsync().ConfigureAwait(false);
            if (failure != e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            throw;
        }
        Status($"all {Resources.Count} resources running");
    }

    public ServiceResource Service(string name) => services.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"No service named '{name}'; there are: {string.Join(", ", services.Select(s => s.Name))}", nameof(name));

    /// <summary>Stops one service (SIGTERM, then SIGKILL); its URLs stay reserved for <see cref="StartServiceAsync"/>.</summary>
    public Task StopServiceAsync(string name) => Service(name).StopAsync(options.StopGrace);

    /// <summary>Starts a stopped service again, same URLs and environment, and waits until it is healthy.</summary>
    public Task StartServiceAsync(string name, CancellationToken cancellationToken = default) =>
        StartServiceCoreAsync(Service(name), cancellationToken);

    /// <summary>Stops services (gateway, chat replicas, then settings and tools), then the servers the stack started.</summary>
    public Task StopAsync()
    {
        lock (stopGate) return stopping ??= StopCoreAsync();
    }

    /// <summary>SIGKILL to everything now (the second Ctrl+C).</summary>
    public void Kill()
    {
        foreach (var service in services) service.Kill();
        if (ownsServers) Servers.Kill();
    }

    public string FormatTable() => ResourceTable.Format(Resources);

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StartServersAsync(CancellationToken cancellationToken)
    {
        Status(ownsServers ? $"starting postgres, redis and rabbitmq (data in {Servers.DataFolder})" : "using the given servers");
        await Servers.StartAsync(cancellationToken).ConfigureAwait(false);
        foreach (var server in Servers.All)
            Status($"{server.Name} running at {server.Endpoint}" +
                   (server.StartDuration is { } d && ownsServers ? $" ({d.TotalSeconds:0.0} s), log {server.LogPath}" : ""));
        if (options.DatabaseSuffix is not null)
            await Postgres.EnsureDatabasesAsync([Database(ResourceNames.SettingsDatabase), Database(ResourceNames.ChatDatabase),
                Database(ResourceNames.ContentDatabase)], cancellationToken).ConfigureAwait(false);
    }

    private async Task StartServiceCoreAsync(ServiceResource service, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Status($"{service.Name} starting");
        await service.StartAsync(options.HealthTimeout, cancellationToken).ConfigureAwait(false);
        Status($"{service.Name} healthy at {service.HttpUrl} ({clock.Elapsed.TotalSeconds:0.0} s, pid {service.Pid})");
    }

    /// <summary>Records the first real failure and cancels the rest, so the stack fails fast and says why.</summary>
    private async Task GuardAsync(Func<CancellationToken, Task> start, CancellationTokenSource failFast)
    {
        try { await start(failFast.Token).ConfigureAwait(false); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Interlocked.CompareExchange(ref firstFailure, e, null);
            await failFast.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StopCoreAsync()
    {
        if (services.Any(s => s.State != ResourceState.NotStarted)) Status("stopping services");
        ServiceResource[][] layers = [[Gateway], [.. ChatReplicas], [Settings, Tools]];
        foreach (var layer in layers)
            await Task.WhenAll(layer.Select(s => s.StopAsync(options.StopGrace))).ConfigureAwait(false);
        if (ownsServers && Servers.All.Any(s => s.State != ResourceState.NotStarted))
        {
            Status("stopping servers");
            await Servers.StopAsync().ConfigureAwait(false);
        }
        dataLock?.Dispose();
        if (ownsDataFolder)
        {
            try { Directory.Delete(DataFolder, recursive: true); }
            catch (IOException) { }
        }
        Status("stopped");
    }

    /// <summary>One stack per data folder: a second one would fight the first over ports and processes.</summary>
    private void LockDataFolder()
    {
        var pidFile = Path.Combine(DataFolder, "apphost.pid");
        try
        {
            // FileShare.None takes an exclusive flock, released by the kernel even when we are killed
            dataLock = new FileStream(Path.Combine(DataFolder, "apphost.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(pidFile, $"{System.Environment.ProcessId}\n");
        }
        catch (IOException)
        {
            var holder = File.Exists(pidFile) ? File.ReadAllText(pidFile).Trim() : "?";
            throw new ResourceFailedException("apphost",
                $"Another launcher (pid {holder}) is running with the data folder {DataFolder}; stop it or pass another --data.");
        }
    }

    /// <summary>Fails before anything starts when a service was not built or the gateway's port is taken.</summary>
    private void CheckBuilt()
    {
        var missing = services.Where(s => !File.Exists(s.AssemblyPath)).Select(s => s.AssemblyPath).Distinct().ToList();
        if (missing.Count > 0)
            throw new ResourceFailedException(services.First(s => !File.Exists(s.AssemblyPath)).Name,
                $"Not built: {string.Join(", ", missing)}. Build the solution ({Layout.Configuration}), e.g. " +
                $"dotnet build AppHost -c {Layout.Configuration}, or pass --artifacts <folder it was built into> " +
                $"(artifacts: {Layout.ArtifactsPath}).");
        var port = new Uri(Gateway.HttpUrl).Port;
        if (!FreePorts.IsFree(port))
            throw new ResourceFailedException(ResourceNames.Gateway,
                $"The gateway's port {port} on 127.0.0.1 is in use by another program; pass another one (--port).");
    }

    private void AddServices()
    {
        var replicas = Math.Max(1, options.ChatReplicas);
        var ports = new Queue<int>(FreePorts.Take(4 + 2 * replicas));
        IResource[] servers = [.. Servers.All];
        var settings = Add(ResourceNames.Settings, null, "Services.Settings", ports, grpc: true, servers);
        var tools = Add(ResourceNames.Tools, null, "Services.Tools", ports, grpc: true, servers);
        var chats = Enumerable.Range(0, replicas)
            .Select(i => Add(ResourceNames.Chat, i, "Services.Chat", ports, grpc: true, [settings, tools])).ToList();
        var gatewayPort = options.GatewayPort == 0 ? FreePorts.Take() : options.GatewayPort;
        Add(ResourceNames.Gateway, null, "Gateway", new Queue<int>([gatewayPort]), grpc: false, [settings, tools, .. chats]);

        foreach (var service in services)
        {
            ConfigureEnvironment(service);
            service.ExitedUnexpectedly += s => ServiceFailed?.Invoke(s);
        }
    }

    private ServiceResource Add(string serviceName, int? replica, string projectFolder, Queue<int> ports, bool grpc,
        IReadOnlyList<IResource> waitFor)
    {
        var name = replica is { } i ? $"{serviceName}-{i}" : serviceName;
        var projectDir = Layout.ProjectDirectory(projectFolder);
        var service = new ServiceResource(name, serviceName, replica, Layout.AssemblyOf(projectFolder, projectFolder),
            // Aspire runs a project from its folder: its content root (appsettings.json, wwwroot) is there
            Directory.Exists(projectDir) ? projectDir : Layout.OutputOf(projectFolder),
            $"http://127.0.0.1:{ports.Dequeue()}", grpc ? $"http://127.0.0.1:{ports.Dequeue()}" : null,
            waitFor, owner: $"{DataFolder}#{name}", Logs);
        services.Add(service);
        return service;
    }

    private string Database(string name) => name + options.DatabaseSuffix;

    private void Status(string message) => options.Status?.Invoke(message);
}
