using AiAssistant.AppHost.Orchestration;
using AiAssistant.AppHost.Resources;
using Xunit;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>The one set of real servers for the test run (Testcontainers' role): use [Collection(ServersCollection.Name)].</summary>
[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<ServersFixture>
{
    public const string Name = "servers";
}

/// <summary>
/// PostgreSQL (databases settings, chat, content), Redis and RabbitMQ on free 127.0.0.1 ports with data in a temporary
/// folder, deleted afterwards. A missing server binary fails every test of the collection with the apt-get line.
/// </summary>
public sealed class ServersFixture : IAsyncLifetime
{
    public string Folder { get; } = TestFolders.Create("servers");

    /// <summary>Every line the three servers logged during the run (tests look for leaked secrets here too).</summary>
    public LogStore Logs { get; } = new();

    /// <summary>Pass as <see cref="StackOptions.UseServers"/> to run services against these servers.</summary>
    public ServerSet Servers { get; private set; } = null!;

    public PostgresServer Postgres => Servers.Postgres;
    public RedisServer Redis => Servers.Redis;
    public RabbitMqServer RabbitMq => Servers.RabbitMq;

    /// <summary>Npgsql connection string to <paramref name="database"/> (settings, chat, content, or one made with EnsureDatabasesAsync).</summary>
    public string ConnectionString(string database) => Postgres.ConnectionStringFor(database);

    public string RedisConnectionString => Redis.ConnectionString;
    public string RabbitMqConnectionString => RabbitMq.ConnectionString;

    public async Task InitializeAsync()
    {
        Servers = new ServerSet(Folder, new ServerOptions { Durable = false, LogSink = Logs.Append });
        try
        {
            await Servers.StartAsync();
        }
        catch
        {
            TestFolders.Delete(Folder);
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await Servers.StopAsync();
        TestFolders.Delete(Folder);
    }
}
