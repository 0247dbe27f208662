using System.Diagnostics;
using System.Net.Sockets;
using AiAssistant.AppHost.Processes;

namespace AiAssistant.AppHost.Resources;

/// <summary>
/// A server run from its Debian binaries, as a child process with its data, ports and log in one folder.
/// Start is idempotent and waits until the server answers; Stop is complete (nothing it spawned survives).
/// </summary>
public abstract class ServerResource : IResource, IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private LogTail? tail;

    protected ServerResource(string name, string folder, ServerOptions? options)
    {
        Name = name;
        Folder = Path.GetFullPath(folder);
        Options = options ?? new ServerOptions();
    }

    public string Name { get; }
    public string Kind => "server";
    public string Folder { get; }
    public string LogPath => Path.Combine(Folder, "log.txt");
    public ResourceState State { get; private set; } = ResourceState.NotStarted;
    public abstract int Port { get; }
    public abstract string Endpoint { get; }
    public abstract string ConnectionString { get; }
    public int? Pid => MainProcess is { HasExited: false } p ? p.Pid : null;
    /// <summary>How long the last start took, until healthy.</summary>
    public TimeSpan? StartDuration { get; private set; }

    protected ServerOptions Options { get; }
    protected ChildProcess? MainProcess { get; set; }
    /// <summary>Owner mark of every process this server runs (sub-processes use Owner#what).</summary>
    protected string Owner => Folder;

    /// <summary>Starts the server (no-op when running) and returns once it answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (State == ResourceState.Running && MainProcess is { HasExited: false }) return;
            var clock = Stopwatch.StartNew();
            State = ResourceState.Starting;
            try
            {
                CheckInstalled();
                Directory.CreateDirectory(Folder);
                // a launcher killed with SIGKILL leaves its servers running: end them, they hold our ports and data
                await ProcessSweeper.KillOwnedAsync(Owner, TimeSpan.FromSeconds(10), withSubOwners: true).ConfigureAwait(false);
                CheckPortsFree();
            }
            catch
            {
                State = ResourceState.Failed;
                throw;
            }
            if (Options.LogSink is { } sink) tail = LogTail.Follow(LogPath, line => sink(Name, line));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.StartTimeout);
            try
            {
                await StartCoreAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not ResourceFailedException)
            {
                await StopQuietlyAsync().ConfigureAwait(false);
                State = ResourceState.Failed;
                if (cancellationToken.IsCancellationRequested) throw;
                var reason = e is OperationCanceledException ? $"did not answer within {Options.StartTimeout.TotalSeconds:0} s" : e.Message;
                throw Failure(reason, e);
            }
            catch
            {
                await StopQuietlyAsync().ConfigureAwait(false);
                State = ResourceState.Failed;
                throw;
            }
            StartDuration = clock.Elapsed;
            State = ResourceState.Running;
        }
        finally { gate.Release(); }
    }

    /// <summary>Stops the server and everything it spawned; data stays in <see cref="Folder"/>.</summary>
    public async Task StopAsync()
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (State is ResourceState.NotStarted or ResourceState.Stopped) return;
            State = ResourceState.Stopping;
            await StopQuietlyAsync().ConfigureAwait(false);
            State = ResourceState.Stopped;
        }
        finally { gate.Release(); }
    }

    /// <summary>SIGKILL to everything this server runs, at once (forced shutdown).</summary>
    public void Kill() => ProcessSweeper.KillOwned(Owner, withSubOwners: true);

    public IReadOnlyList<string> LastLogLines(int count = 15) => LogTail.LastLines(LogPath, count);

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>Starts the processes and returns once the server answers.</summary>
    protected abstract Task StartCoreAsync(CancellationToken cancellationToken);

    /// <summary>Asks the server to stop and waits for it; the base class then sweeps whatever is left.</summary>
    protected abstract Task StopCoreAsync();

    protected abstract IEnumerable<int> AllPorts();

    protected abstract void CheckInstalled();

    /// <summary>Polls <paramref name="probe"/> every 100 ms; fails as soon as <paramref name="process"/> exits.</summary>
    protected static async Task WaitUntilAsync(ChildProcess process, string what, Func<CancellationToken, Task<bool>> probe,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{what} exited with code {process.ExitCode} while starting");
            if (await probe(cancellationToken).ConfigureAwait(false)) return;
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True when a TCP connection to 127.0.0.1:<paramref name="port"/> opens.</summary>
    protected static async Task<bool> AcceptsConnectionAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SocketException) { return false; }
    }

    protected ResourceFailedException Failure(string reason, Exception? inner = null) => new(Name,
        $"{Name} failed to start: {reason}.\nLog {LogPath}, last lines:\n  " + string.Join("\n  ", LastLogLines()), inner);

    private void CheckPortsFree()
    {
        var busy = AllPorts().Where(p => !FreePorts.IsFree(p)).ToList();
        if (busy.Count > 0)
            throw new ResourceFailedException(Name,
                $"{Name} cannot start: port {string.Join(", ", busy)} on 127.0.0.1 is in use by another program " +
                $"(ports are kept in {Path.Combine(Folder, PortFile.FileName)}; delete that file to pick new ones).");
    }

    private async Task StopQuietlyAsync()
    {
        try { await StopCoreAsync().ConfigureAwait(false); }
        catch (Exception) { /* the sweep below is the backstop */ }
        await ProcessSweeper.KillOwnedAsync(Owner, TimeSpan.FromSeconds(3), withSubOwners: true).ConfigureAwait(false);
        MainProcess?.Dispose();
        MainProcess = null;
        if (tail is not null) await tail.DisposeAsync().ConfigureAwait(false);
        tail = null;
    }
}
