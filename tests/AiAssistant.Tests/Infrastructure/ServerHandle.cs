using System.Globalization;
using Npgsql;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>One of the app's servers as the tests use it: its address, its folder, stop and start through the app.</summary>
public class ServerHandle(RunningApp app, string name, string connectionString, int port)
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;
    public int Port { get; } = port;
    /// <summary>Where the server keeps its data: <c>{data}/{name}</c>.</summary>
    public string Folder => Path.Combine(app.DataFolder, Name);

    public Task StopAsync() => app.StopAsync(Name);
    public Task StartAsync() => app.StartAsync(Name);

    public static async Task<ServerHandle> RedisAsync(RunningApp app, string name)
    {
        var cs = await app.ConnectionStringAsync(name);
        return new ServerHandle(app, name, cs, int.Parse(cs[(cs.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
    }

    public static async Task<ServerHandle> RabbitMqAsync(RunningApp app, string name)
    {
        var cs = await app.ConnectionStringAsync(name);
        return new ServerHandle(app, name, cs, new Uri(cs).Port);
    }
}

/// <summary>PostgreSQL: connection strings per database, and databases made on demand.</summary>
public sealed class PostgresHandle(RunningApp app, string name, string connectionString, int port)
    : ServerHandle(app, name, connectionString, port)
{
    public string DataDirectory => Path.Combine(Folder, "data");

    /// <summary>The Npgsql connection string for <paramref name="database"/> (settings, chat, content, or one made here).</summary>
    public string ConnectionStringFor(string database) => $"{ConnectionString};Database={database}";

    /// <summary>Creates the databases that do not exist yet.</summary>
    public async Task EnsureDatabasesAsync(IEnumerable<string> names)
    {
        await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres") + ";Pooling=false");
        await connection.OpenAsync();
        foreach (var database in names.Distinct())
            await AiAssistant.AppHost.Servers.PostgresServerExtensions.CreateIfMissingAsync(connection, database, CancellationToken.None);
    }

    public static async Task<PostgresHandle> StartedAsync(RunningApp app, string name)
    {
        var cs = await app.ConnectionStringAsync(name);
        var port = new NpgsqlConnectionStringBuilder(cs).Port;
        return new PostgresHandle(app, name, cs, port);
    }
}
