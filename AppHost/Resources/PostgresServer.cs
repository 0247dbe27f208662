using AiAssistant.AppHost.Processes;
using AiAssistant.Contracts;
using Npgsql;

namespace AiAssistant.AppHost.Resources;

/// <summary>
/// PostgreSQL from Debian's binaries: initdb on first use, then the postmaster as a child process, run as the
/// postgres user when we are root (PostgreSQL refuses root). TCP on 127.0.0.1 only, trust authentication.
/// </summary>
public sealed class PostgresServer : ServerResource
{
    private const string User = "postgres";
    private string? bin;

    /// <param name="port">0: the port saved in the folder, or a free one on first use</param>
    public PostgresServer(string folder, int port = 0, ServerOptions? options = null, string name = ResourceNames.Postgres)
        : base(name, folder, options)
    {
        Port = PortFile.LoadOrCreate(Folder, new Dictionary<string, int> { ["postgres"] = port })["postgres"];
    }

    /// <summary>Databases created (when missing) on every start.</summary>
    public IList<string> Databases { get; } =
        [ResourceNames.SettingsDatabase, ResourceNames.ChatDatabase, ResourceNames.ContentDatabase];

    public override int Port { get; }
    public override string Endpoint => $"127.0.0.1:{Port}";
    /// <summary>Connection string to the maintenance database "postgres".</summary>
    public override string ConnectionString => ConnectionStringFor("postgres");
    public string DataDirectory => Path.Combine(Folder, "data");

    /// <summary>The Npgsql connection string services get for <paramref name="database"/>.</summary>
    public string ConnectionStringFor(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password=postgres;Database={database}";

    /// <summary>Creates the databases that do not exist yet.</summary>
    public async Task EnsureDatabasesAsync(IEnumerable<string> names, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var name in names.Distinct())
        {
            await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection);
            exists.Parameters.AddWithValue(name);
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null) continue;
            await using var create = new NpgsqlCommand($"create database \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    protected override void CheckInstalled() => bin = ServerBinaries.PostgresBin();

    protected override IEnumerable<int> AllPorts() => [Port];

    protected override async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        PrepareFolder();
        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION"))) await InitDbAsync(cancellationToken).ConfigureAwait(false);

        string[] settings =
        [
            "listen_addresses=127.0.0.1",
            "unix_socket_directories=", // TCP only: a socket path in a deep temp folder can exceed 107 bytes
            "max_connections=300",      // several services and replicas, each with a pool
            "update_process_title=off", // titles overwrite the environment, and with it our owner mark
            .. Options.Durable ? Array.Empty<string>() : ["fsync=off", "synchronous_commit=off", "full_page_writes=off"],
        ];
        MainProcess = ChildProcess.Start(new ProcessSpec(Path.Combine(bin!, "postgres"),
            ["-D", DataDirectory, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. settings.SelectMany(s => new[] { "-c", s })])
        {
            Owner = Owner,
            RunAsUser = User,
            OutputFile = LogPath,
            WorkingDirectory = Folder,
        });

        await WaitUntilAsync(MainProcess, "postgres", CanConnectAsync, cancellationToken).ConfigureAwait(false);
        await EnsureDatabasesAsync(Databases, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SIGINT is PostgreSQL's fast shutdown (what pg_ctl -m fast sends): clients are disconnected, data is flushed.</summary>
    protected override async Task StopCoreAsync()
    {
        if (MainProcess is { } p) await p.StopAsync(Posix.SigInt, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    private async Task InitDbAsync(CancellationToken cancellationToken)
    {
        if (Directory.Exists(DataDirectory)) Directory.Delete(DataDirectory, recursive: true); // a half-done initdb
        using var initdb = ChildProcess.Start(new ProcessSpec(Path.Combine(bin!, "initdb"),
            ["-D", DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        {
            Owner = Owner + "#initdb",
            RunAsUser = User,
            OutputFile = LogPath,
            WorkingDirectory = Folder,
        });
        var code = await initdb.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (code != 0) throw new InvalidOperationException($"initdb exited with code {code}");
    }

    /// <summary>As root: the folder belongs to postgres and every parent lets it through (o+x).</summary>
    private void PrepareFolder()
    {
        if (!Posix.IsRoot || OperatingSystem.IsWindows()) return;
        for (var dir = Directory.GetParent(Folder); dir is not null; dir = dir.Parent)
        {
            var mode = File.GetUnixFileMode(dir.FullName);
            if (!mode.HasFlag(UnixFileMode.OtherExecute)) File.SetUnixFileMode(dir.FullName, mode | UnixFileMode.OtherExecute);
        }
        if (!File.Exists(LogPath)) File.WriteAllText(LogPath, "");
        Chown(Folder);
        Chown(LogPath);
        File.SetUnixFileMode(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static void Chown(string path)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [$"{User}:{User}", path]);
        chown.WaitForExit();
        if (chown.ExitCode != 0) throw new InvalidOperationException($"chown {User} {path} failed (is the postgres user missing? apt-get install postgresql)");
    }

    private async Task<bool> CanConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false;Timeout=2");
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("select 1", connection);
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NpgsqlException) { return false; }
        catch (TimeoutException) { return false; }
    }
}
