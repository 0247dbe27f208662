using System.Net;
using AiAssistant.AppHost.Processes;
using AiAssistant.AppHost.Resources;

namespace AiAssistant.AppHost.Orchestration;

/// <summary>
/// One service process (<c>dotnet {dll}</c>), a replica when the service has several. Its URLs stay fixed for the
/// stack's life, so stopping and starting it again keeps every reference to it valid.
/// </summary>
public sealed class ServiceResource : IResource
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly LogStore logs;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly object exitGate = new();
    private ChildProcess? process;
    private bool stopping;

    internal ServiceResource(string name, string serviceName, int? replica, string assemblyPath, string workingDirectory,
        string httpUrl, string? grpcUrl, IReadOnlyList<IResource> waitFor, string owner, LogStore logs)
    {
        Name = name;
        ServiceName = serviceName;
        Replica = replica;
        AssemblyPath = assemblyPath;
        WorkingDirectory = workingDirectory;
        HttpUrl = httpUrl;
        GrpcUrl = grpcUrl;
        WaitFor = waitFor;
        Owner = owner;
        this.logs = logs;
    }

    /// <summary>Resource name: "settings", "chat-0", "gateway".</summary>
    public string Name { get; }
    /// <summary>The service it is an instance of: "chat" for "chat-1".</summary>
    public string ServiceName { get; }
    public int? Replica { get; }
    public string Kind => "project";
    public string AssemblyPath { get; }
    public string WorkingDirectory { get; }
    public string HttpUrl { get; }
    public string? GrpcUrl { get; }
    public string Endpoint => GrpcUrl is null ? HttpUrl : $"{HttpUrl} (grpc {GrpcUrl})";
    /// <summary>Resources that must be healthy before this one starts (Aspire's WaitFor).</summary>
    public IReadOnlyList<IResource> WaitFor { get; }
    /// <summary>What the process is started with, on top of the launcher's environment (null: removed).</summary>
    public IDictionary<string, string?> Environment { get; } = new SortedDictionary<string, string?>(StringComparer.Ordinal);
    /// <summary>Inherited variables the service must not see: the launcher sets these keys explicitly or not at all.</summary>
    public IList<string> RemoveInherited { get; } = [];
    public string Owner { get; }
    public ResourceState State { get; private set; } = ResourceState.NotStarted;
    public int? Pid => process is { HasExited: false } p ? p.Pid : null;
    public int? ExitCode { get; private set; }
    /// <summary>Why it is <see cref="ResourceState.Failed"/>: "exited with code 139", "not healthy", "not built".</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Raised when the process exits without being asked to (crash, or a failed start).</summary>
    public event Action<ServiceResource>? ExitedUnexpectedly;

    /// <summary>Starts the process and waits until GET /health answers 200.</summary>
    public async Task StartAsync(TimeSpan healthTimeout, CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (State == ResourceState.Running && process is { HasExited: false }) return;
            if (!File.Exists(AssemblyPath))
            {
                State = ResourceState.Failed;
                FailureReason = "not built";
                throw new ResourceFailedException(Name, $"{Name} cannot start: {AssemblyPath} does not exist. " +
                    "Build the solution with the launcher's configuration, or point --artifacts at the folder it was built into.");
            }
            process?.Dispose(); // one that crashed earlier
            process = null;
            stopping = false;
            ExitCode = null;
            FailureReason = null;
            State = ResourceState.Starting;
            var started = ChildProcess.Start(new ProcessSpec(DotnetHost.Path, [AssemblyPath])
            {
                Owner = Owner,
                WorkingDirectory = WorkingDirectory,
                Environment = new Dictionary<string, string?>(Environment),
                RemoveInherited = RemoveInherited.ToList(),
                OnOutput = line => logs.Append(Name, line),
            });
            process = started;
            _ = started.Exited.ContinueWith(t => OnExited(started, t.Result), TaskScheduler.Default);
            try
            {
                await WaitHealthyAsync(started, healthTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                FailureReason = started.HasExited ? $"exited with code {started.ExitCode}" : "not healthy";
                await StopProcessAsync(started).ConfigureAwait(false);
                State = e is OperationCanceledException ? ResourceState.Stopped : ResourceState.Failed;
                throw;
            }
            State = ResourceState.Running;
            if (started.HasExited) OnExited(started, started.ExitCode ?? -1); // died right after answering
        }
        finally { gate.Release(); }
    }

    /// <summary>SIGTERM (ASP.NET Core shuts down gracefully), SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (process is null) return;
            State = ResourceState.Stopping;
            await StopProcessAsync(process, grace).ConfigureAwait(false);
            State = ResourceState.Stopped;
        }
        finally { gate.Release(); }
    }

    /// <summary>SIGKILL now (forced shutdown).</summary>
    public void Kill()
    {
        stopping = true;
        ProcessSweeper.KillOwned(Owner);
    }

    private async Task StopProcessAsync(ChildProcess target, TimeSpan? grace = null)
    {
        stopping = true;
        await target.StopAsync(Posix.SigTerm, grace ?? TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        if (target.HasExited) ExitCode = target.ExitCode;
        target.Dispose();
        process = null;
    }

    private void OnExited(ChildProcess exited, int code)
    {
        lock (exitGate)
        {
            if (stopping || !ReferenceEquals(exited, process)) return;
            ExitCode = code;
            if (State != ResourceState.Running) return; // while starting, the health wait reports it
            State = ResourceState.Failed;
            FailureReason = $"exited with code {code}";
        }
        ExitedUnexpectedly?.Invoke(this);
    }

    private async Task WaitHealthyAsync(ChildProcess started, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var last = "no answer yet";
        try
        {
            while (true)
            {
                if (started.HasExited)
                {
                    await Task.Delay(300, CancellationToken.None).ConfigureAwait(false); // let its last output arrive
                    throw Failure($"the process exited with code {started.ExitCode} before it was healthy");
                }
                try
                {
                    using var response = await Http.GetAsync(HttpUrl + "/health", deadline.Token).ConfigureAwait(false);
                    if (response.StatusCode == HttpStatusCode.OK) return;
                    last = $"{(int)response.StatusCode} {response.StatusCode}";
                }
                catch (HttpRequestException e) { last = e.Message; }
                catch (TaskCanceledException) when (!deadline.IsCancellationRequested) { last = "no answer within 2 s"; }
                await Task.Delay(100, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failure($"GET {HttpUrl}/health did not answer 200 within {timeout.TotalSeconds:0} s (last: {last})");
        }
    }

    private ResourceFailedException Failure(string reason) => new(Name,
        $"{Name} failed to start: {reason}.\nLast log lines of {Name}:\n  " + string.Join("\n  ", logs.Tail(Name, 20)));
}

/// <summary>The dotnet host that runs service assemblies: ours when we run under dotnet, else $DOTNET_HOST_PATH or PATH's.</summary>
internal static class DotnetHost
{
    public static string Path { get; } =
        System.Environment.ProcessPath is { } self && System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : "dotnet";
}
