using AiAssistant.Contracts;
using Xunit;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>The one set of real servers for the test run (Testcontainers' role): use [Collection(ServersCollection.Name)].</summary>
[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<ServersFixture>
{
    public const string Name = "servers";
}

/// <summary>
/// PostgreSQL (databases settings, chat, content), Redis and RabbitMQ from the real AppHost (<c>--servers-only</c>), on
/// ports Aspire chooses and with data in a temporary folder, deleted afterwards. A missing server binary fails every
/// test of the collection, with the resource's own error in the message.
/// </summary>
public sealed class ServersFixture : IAsyncLifetime
{
    public string Folder { get; } = TestFolders.Create("servers");
    public RunningApp App { get; private set; } = null!;
    public PostgresHandle Postgres { get; private set; } = null!;
    public ServerHandle Redis { get; private set; } = null!;
    public ServerHandle RabbitMq { get; private set; } = null!;

    /// <summary>Npgsql connection string to <paramref name="database"/> (settings, chat, content, or one made with EnsureDatabasesAsync).</summary>
    public string ConnectionString(string database) => Postgres.ConnectionStringFor(database);

    public string RedisConnectionString => Redis.ConnectionString;
    public string RabbitMqConnectionString => RabbitMq.ConnectionString;

    public async Task InitializeAsync()
    {
        try
        {
            App = await RunningApp.StartAsync(Folder, ["--servers-only", "true"],
                [ResourceNames.Postgres, ResourceNames.Redis, ResourceNames.RabbitMq,
                 ResourceNames.SettingsDatabase, ResourceNames.ChatDatabase, ResourceNames.ContentDatabase]);
            Postgres = await PostgresHandle.StartedAsync(App, ResourceNames.Postgres);
            Redis = await ServerHandle.RedisAsync(App, ResourceNames.Redis);
            RabbitMq = await ServerHandle.RabbitMqAsync(App, ResourceNames.RabbitMq);
        }
        catch
        {
            TestFolders.Delete(Folder);
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (App is not null) await App.DisposeAsync();
        TestFolders.Delete(Folder);
    }
}
