using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Tests.Infrastructure;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Content.Schema;

/// <summary>
/// The event path on its own, through real RabbitMQ: a schema change leaves the outbox as <c>SchemaChanged</c>, and
/// another replica, with no version watcher, reloads from the event alone (its own queue, as a Tools replica has).
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class SchemaEventTests(ServersFixture servers) : IAsyncLifetime
{
    private SchemaDatabase _db = null!;
    private WebApplication _replica = null!;

    public async Task InitializeAsync()
    {
        _db = await SchemaDatabase.CreateAsync(servers, "schemaevent");
        var database = _db.Name;
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration[$"ConnectionStrings:{database}"] = servers.ConnectionString(database);
        builder.Configuration["ConnectionStrings:rabbitmq"] = servers.RabbitMqConnectionString;
        builder.AddPostgres(database);
        builder.Services.AddSingleton<SchemaCache>();
        builder.AddMessaging(x => x.AddConsumer<SchemaChangedConsumer>(),
            (context, cfg) => cfg.ReplicaReceiveEndpoint("schema-event-test", e => e.ConfigureConsumer<SchemaChangedConsumer>(context)));
        builder.AddOutbox();
        _replica = builder.Build();
        await _replica.StartAsync();
        // the replica's queue must be bound before anything is published, or RabbitMQ drops the event
        Assert.Equal(BusHealthStatus.Healthy,
            await _replica.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60)));
    }

    public async Task DisposeAsync()
    {
        await _replica.StopAsync();
        await _replica.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Another_replica_reloads_from_the_event_alone()
    {
        var replica = _replica.Services.GetRequiredService<SchemaCache>();
        Assert.Null((await replica.GetAsync(CancellationToken.None)).Collection("articles"));

        // the writing replica: its own cache, the outbox dispatcher woken by the commit
        var writer = new SchemaStore(_db.Data, _db.NewCache(), _replica.Services.GetRequiredService<OutboxSignal>(), _db.Redis,
            NullLogger<SchemaStore>.Instance);
        await writer.CreateCollectionAsync(Body("""{"collection":"articles","schema":{}}"""), CancellationToken.None);
        var version = await _db.VersionAsync();

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (replica.Version < version && waited.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        Assert.True(replica.Version >= version, $"the replica stayed at version {replica.Version}, the schema is at {version}");
        Assert.NotNull((await replica.GetAsync(CancellationToken.None)).Collection("articles"));
        // the consumer can see the event before the dispatcher's "sent" mark commits
        for (var i = 0; i < 50 && await UnsentAsync() > 0; i++) await Task.Delay(100);
        Assert.Equal(0, await UnsentAsync());
    }

    private Task<long> UnsentAsync() => _db.ScalarAsync<long>("select count(*) from outbox_messages where sent_at is null");
}
