using System.Collections.Concurrent;
using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.Tests.Infrastructure;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.Outbox;

/// <summary>The outbox with real PostgreSQL and RabbitMQ: events leave only when committed, and none is lost while the broker is away.</summary>
[Collection(ServersCollection.Name)]
public sealed class OutboxTests(ServersFixture servers) : IAsyncLifetime
{
    private readonly string _database = "outbox_" + Guid.NewGuid().ToString("N")[..8];
    private WebApplication _app = null!;
    private readonly Received _received = new();

    public sealed class Received
    {
        public ConcurrentQueue<AiSettingsChanged> Events { get; } = new();
        public SemaphoreSlim Arrived { get; } = new(0);
    }

    public sealed class Collector(Received received) : IConsumer<AiSettingsChanged>
    {
        public Task Consume(ConsumeContext<AiSettingsChanged> context)
        {
            received.Events.Enqueue(context.Message);
            received.Arrived.Release();
            return Task.CompletedTask;
        }
    }

    public async Task InitializeAsync()
    {
        await servers.Postgres.EnsureDatabasesAsync([_database]);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration[$"ConnectionStrings:{_database}"] = servers.ConnectionString(_database);
        builder.Configuration["ConnectionStrings:rabbitmq"] = servers.RabbitMqConnectionString;
        builder.Services.AddSingleton(_received);
        builder.AddPostgres(_database);
        builder.AddMessaging(x => x.AddConsumer<Collector>(),
            (context, cfg) => cfg.ReceiveEndpoint(_database, e => e.ConfigureConsumer<Collector>(context)));
        builder.AddOutbox();
        _app = builder.Build();
        await _app.StartAsync();
        // The receive endpoint's queue must be bound before anything is published, or RabbitMQ drops the event.
        Assert.Equal(BusHealthStatus.Healthy,
            await _app.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60)));
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task WriteAsync(long version, bool commit)
    {
        await using var connection = await _app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await OutboxWriter.AddAsync(connection, tx, new AiSettingsChanged(version, ["field"], DateTimeOffset.UtcNow), CancellationToken.None);
        if (commit) await tx.CommitAsync(); else await tx.RollbackAsync();
        _app.Services.GetRequiredService<OutboxSignal>().Notify();
    }

    private async Task<long> UnsentAsync()
    {
        await using var cmd = _app.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand("select count(*) from outbox_messages where sent_at is null");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<AiSettingsChanged> NextAsync(TimeSpan within)
    {
        Assert.True(await _received.Arrived.WaitAsync(within), "no event arrived");
        Assert.True(_received.Events.TryDequeue(out var e));
        return e;
    }

    [Fact]
    public async Task A_committed_event_is_published_and_marked_sent_and_a_rolled_back_one_never_leaves()
    {
        await WriteAsync(1, commit: false);
        await WriteAsync(2, commit: true);

        var first = await NextAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, first.Version);
        Assert.Equal(["field"], first.Fields);
        // The consumer can see the event before the dispatcher's "sent" mark commits.
        for (var i = 0; i < 50 && await UnsentAsync() > 0; i++) await Task.Delay(100);
        Assert.Equal(0, await UnsentAsync());
        Assert.True(_received.Events.IsEmpty);
    }

    [Fact]
    public async Task Events_written_while_rabbitmq_is_down_are_all_delivered_after_it_returns()
    {
        await WriteAsync(10, commit: true);
        Assert.Equal(10, (await NextAsync(TimeSpan.FromSeconds(30))).Version);

        await servers.RabbitMq.StopAsync();
        try
        {
            await WriteAsync(11, commit: true);
            await WriteAsync(12, commit: true);
            // The dispatcher tries and fails while the broker is away; the rows stay.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(2, await UnsentAsync());
        }
        finally
        {
            await servers.RabbitMq.StartAsync();
        }

        // Both arrive (consumers run concurrently, so their order on arrival is not guaranteed; versions make order moot).
        var versions = new[] { (await NextAsync(TimeSpan.FromSeconds(60))).Version, (await NextAsync(TimeSpan.FromSeconds(30))).Version };
        Assert.Equal([11L, 12L], versions.Order());
        for (var i = 0; i < 50 && await UnsentAsync() > 0; i++) await Task.Delay(100);
        Assert.Equal(0, await UnsentAsync());
    }
}
