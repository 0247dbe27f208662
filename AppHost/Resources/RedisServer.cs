using System.Globalization;
using System.Net.Sockets;
using System.Text;
using AiAssistant.AppHost.Processes;
using AiAssistant.Contracts;

namespace AiAssistant.AppHost.Resources;

/// <summary>Redis as a child process on 127.0.0.1, without persistence (what it holds is cheap to lose).</summary>
public sealed class RedisServer : ServerResource
{
    private string? binary;

    /// <param name="port">0: the port saved in the folder, or a free one on first use</param>
    public RedisServer(string folder, int port = 0, ServerOptions? options = null, string name = ResourceNames.Redis)
        : base(name, folder, options)
    {
        Port = PortFile.LoadOrCreate(Folder, new Dictionary<string, int> { ["redis"] = port })["redis"];
    }

    public override int Port { get; }
    public override string Endpoint => $"127.0.0.1:{Port}";
    /// <summary>The shape services read: host:port.</summary>
    public override string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Sends one inline command and returns the first reply line ("+PONG", "-ERR …").</summary>
    public async Task<string> SendAsync(string command, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port, cancellationToken).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), cancellationToken).ConfigureAwait(false);
        var buffer = new byte[512];
        var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
    }

    /// <summary>True when Redis answers PING with +PONG.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try { return await SendAsync("PING", cancellationToken).ConfigureAwait(false) == "+PONG"; }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
    }

    protected override void CheckInstalled() => binary = ServerBinaries.RedisServer();

    protected override IEnumerable<int> AllPorts() => [Port];

    protected override async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        MainProcess = ChildProcess.Start(new ProcessSpec(binary!,
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Folder,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
            "--set-proc-title", "no", // a new title overwrites the environment, and with it our owner mark
        ])
        {
            Owner = Owner,
            OutputFile = LogPath,
            WorkingDirectory = Folder,
        });
        await WaitUntilAsync(MainProcess, "redis-server", PingAsync, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task StopCoreAsync()
    {
        if (MainProcess is not { HasExited: false } process) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await SendAsync("SHUTDOWN NOSAVE", timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException) { }
        await process.WaitForExitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        await process.StopAsync(Posix.SigTerm, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }
}
