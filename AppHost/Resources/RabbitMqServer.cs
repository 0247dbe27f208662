using System.Globalization;
using AiAssistant.AppHost.Processes;
using AiAssistant.Contracts;

namespace AiAssistant.AppHost.Resources;

/// <summary>
/// RabbitMQ (no plugins) as a child process, with its own epmd on a dedicated port (started by us, so we own and stop
/// it) and every port fixed in the folder, so Stop then Start brings it back at the same address.
/// </summary>
public sealed class RabbitMqServer : ServerResource
{
    private const string NodeName = "rabbit@localhost";
    private readonly Dictionary<string, string?> environment;
    private ChildProcess? epmd;
    private string? server, ctl, epmdBinary;

    /// <param name="port">AMQP port; 0: the port saved in the folder, or a free one on first use</param>
    public RabbitMqServer(string folder, int port = 0, ServerOptions? options = null, string name = ResourceNames.RabbitMq)
        : base(name, folder, options)
    {
        var ports = PortFile.LoadOrCreate(Folder, new Dictionary<string, int> { ["amqp"] = port, ["dist"] = 0, ["epmd"] = 0 });
        Port = ports["amqp"];
        DistributionPort = ports["dist"];
        EpmdPort = ports["epmd"];
        environment = ServerEnvironment();
    }

    public override int Port { get; }
    /// <summary>Erlang distribution (rabbitmqctl talks to the node through it).</summary>
    public int DistributionPort { get; }
    public int EpmdPort { get; }
    public override string Endpoint => $"127.0.0.1:{Port}";
    public override string ConnectionString => $"amqp://guest:guest@127.0.0.1:{Port}/";

    /// <summary>Runs rabbitmqctl against this node (same environment as the server); returns exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> CtlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        ctl ??= ServerBinaries.RabbitMqCtl();
        var output = new System.Text.StringBuilder();
        using var process = ChildProcess.Start(new ProcessSpec(ctl, arguments)
        {
            Owner = Owner + "#ctl",
            Environment = environment,
            WorkingDirectory = Folder,
            OnOutput = line => { lock (output) output.AppendLine(line); },
        });
        try
        {
            var code = await process.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (output) return (code, output.ToString());
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
    }

    protected override void CheckInstalled()
    {
        server = ServerBinaries.RabbitMqServer();
        ctl = ServerBinaries.RabbitMqCtl();
        epmdBinary = ServerBinaries.Epmd();
    }

    protected override IEnumerable<int> AllPorts() => [Port, DistributionPort, EpmdPort];

    protected override async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        WriteConfiguration();
        File.Delete(PidFile); // a stale pid file would make "rabbitmqctl wait" watch a dead process

        epmd = ChildProcess.Start(new ProcessSpec(epmdBinary!, ["-port", Str(EpmdPort), "-address", "127.0.0.1"])
        {
            Owner = Owner + "#epmd",
            OutputFile = Path.Combine(Folder, "epmd.log"),
            WorkingDirectory = Folder,
        });
        await WaitUntilAsync(epmd, "epmd", ct => AcceptsConnectionAsync(EpmdPort, ct), cancellationToken).ConfigureAwait(false);

        MainProcess = ChildProcess.Start(new ProcessSpec(server!, [])
        {
            Owner = Owner,
            Environment = environment,
            OutputFile = LogPath,
            WorkingDirectory = Folder,
        });
        // healthy = the AMQP listener accepts connections and the node reports the broker fully booted
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var amqp = WaitUntilAsync(MainProcess, "rabbitmq-server", ct => AcceptsConnectionAsync(Port, ct), both.Token);
        var booted = WaitBootedAsync(both.Token);
        var first = await Task.WhenAny(amqp, booted).ConfigureAwait(false);
        if (!first.IsCompletedSuccessfully) await both.CancelAsync().ConfigureAwait(false); // the other would wait in vain
        await Task.WhenAll(amqp, booted).ConfigureAwait(false);
    }

    protected override async Task StopCoreAsync()
    {
        if (MainProcess is { HasExited: false } process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try { await CtlAsync(["stop"], timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            // the script's TERM trap also runs "rabbitmqctl stop": the fallback when the node did not answer
            await process.StopAsync(Posix.SigTerm, TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        }
        if (epmd is not null) await epmd.StopAsync(Posix.SigTerm, TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        epmd?.Dispose();
        epmd = null;
    }

    private string PidFile => Path.Combine(Folder, "rabbit.pid");

    private async Task WaitBootedAsync(CancellationToken cancellationToken)
    {
        var seconds = Str((int)Options.StartTimeout.TotalSeconds);
        var (code, output) = await CtlAsync(["wait", PidFile, "--timeout", seconds], cancellationToken).ConfigureAwait(false);
        if (code != 0) throw new InvalidOperationException($"rabbitmqctl wait exited with code {code}: {output.Trim()}");
    }

    private void WriteConfiguration()
    {
        Directory.CreateDirectory(Path.Combine(Folder, "home"));
        Directory.CreateDirectory(Path.Combine(Folder, "mnesia"));
        Directory.CreateDirectory(Path.Combine(Folder, "log"));
        File.WriteAllText(Path.Combine(Folder, "rabbitmq.conf"), $"""
            listeners.tcp.default = 127.0.0.1:{Port}
            log.console = true
            log.console.level = info
            log.file = false
            """ + "\n");
        File.WriteAllText(Path.Combine(Folder, "enabled_plugins"), "[].\n"); // no management plugin: starts faster
        // written before the server and rabbitmqctl start together, or both would create one and they could differ
        var cookie = Path.Combine(Folder, "home", ".erlang.cookie");
        if (!File.Exists(cookie) && !OperatingSystem.IsWindows())
        {
            var letters = System.Security.Cryptography.RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 20);
            File.WriteAllText(cookie, letters);
            File.SetUnixFileMode(cookie, UnixFileMode.UserRead); // Erlang refuses a cookie others can read
        }
    }

    /// <summary>Everything under our folder and ports; none of /etc/rabbitmq or /var/lib/rabbitmq is read.</summary>
    private Dictionary<string, string?> ServerEnvironment() => new()
    {
        ["HOME"] = Path.Combine(Folder, "home"), // the Erlang cookie lives here, shared by server and rabbitmqctl
        ["RABBITMQ_NODENAME"] = NodeName,
        ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
        ["RABBITMQ_NODE_PORT"] = Str(Port),
        ["RABBITMQ_DIST_PORT"] = Str(DistributionPort), // the default (port + 20000) is invalid above 45535
        ["ERL_EPMD_PORT"] = Str(EpmdPort),
        ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
        ["RABBITMQ_MNESIA_BASE"] = Path.Combine(Folder, "mnesia"),
        ["RABBITMQ_LOG_BASE"] = Path.Combine(Folder, "log"),
        ["RABBITMQ_CONFIG_FILE"] = Path.Combine(Folder, "rabbitmq.conf"),
        ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(Folder, "advanced.config"),
        ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(Folder, "rabbitmq-env.conf"),
        ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(Folder, "enabled_plugins"),
        ["RABBITMQ_PID_FILE"] = Path.Combine(Folder, "rabbit.pid"),
        ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
    };

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
