using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Content.Schema;

/// <summary>Another replica's cache sees a change within a second through the version it watches, without the event.</summary>
[Collection(ServersCollection.Name)]
public sealed class SchemaCacheTests(ServersFixture servers) : IAsyncLifetime
{
    private SchemaDatabase _db = null!;

    public async Task InitializeAsync() => _db = await SchemaDatabase.CreateAsync(servers, "schemacache");
    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task A_replica_without_the_event_sees_a_change_within_a_second()
    {
        var replica = _db.NewCache();
        using var watcher = new SchemaVersionWatcher(replica, _db.Data, _db.Redis, NullLogger<SchemaVersionWatcher>.Instance);
        await watcher.StartAsync(CancellationToken.None);
        try
        {
            Assert.Null((await replica.GetAsync(CancellationToken.None)).Collection("articles"));
            await _db.Store.CreateCollectionAsync(Body("""{"collection":"articles","schema":{}}"""), CancellationToken.None);
            var started = DateTime.UtcNow;
            while ((await replica.GetAsync(CancellationToken.None)).Collection("articles") is null)
            {
                Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1), "the replica did not reload within a second");
                await Task.Delay(20);
            }
        }
        finally
        {
            await watcher.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_event_reloads_a_replica_to_at_least_its_version()
    {
        var replica = _db.NewCache();
        await replica.GetAsync(CancellationToken.None);
        var before = replica.Version;
        await _db.Store.CreateCollectionAsync(Body("""{"collection":"articles","schema":{}}"""), CancellationToken.None);
        var snapshot = await replica.RefreshAsync(before + 1, CancellationToken.None);
        Assert.NotNull(snapshot.Collection("articles"));
        Assert.Equal(before + 1, replica.Version);
    }
}
