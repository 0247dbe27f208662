using AiAssistant.Services.Chat.Usage;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using StackExchange.Redis;
using Xunit;

namespace AiAssistant.Tests.Usage;

/// <summary>The ledger's writer against a real PostgreSQL and Redis: every record written, none lost while the database is away.</summary>
[Collection(ServersCollection.Name)]
public sealed class UsageLedgerTests(ServersFixture servers) : IAsyncLifetime
{
    private readonly string _database = "chat_" + Guid.NewGuid().ToString("N")[..8];
    private ConnectionMultiplexer _redis = null!;

    public async Task InitializeAsync() => _redis = await TestRedis.ConnectAsync(servers.RedisConnectionString);

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private static UsageRecord Turn(Guid user, long tokens) =>
        new(DateTimeOffset.UtcNow, user, null, "chat", "openai", "gpt-5.4-mini", tokens, 0, tokens, 0, null, tokens * 0.75m / 1_000_000m, "ok");

    [Fact]
    public async Task A_turn_recorded_while_the_database_is_away_is_written_once_it_is_back()
    {
        // the database does not exist yet: every INSERT fails until it does
        await using var data = new NpgsqlDataSourceBuilder(servers.ConnectionString(_database)).Build();
        var limiter = new UsageLimiter(_redis, TimeProvider.System, NullLogger<UsageLimiter>.Instance);
        var ledger = new UsageLedger(data, limiter, NullLogger<UsageLedger>.Instance);
        await ledger.StartAsync(CancellationToken.None);
        var user = Guid.NewGuid();
        try
        {
            for (var i = 0; i < 3; i++) ledger.Record(Turn(user, 100));
            await Task.Delay(600); // a few refused attempts
            Assert.Equal(0, ledger.Written);

            await servers.Postgres.EnsureDatabasesAsync([_database]);
            await using (var cmd = data.CreateCommand(new UsageTables().Sql)) await cmd.ExecuteNonQueryAsync();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (ledger.Written < 3)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"only {ledger.Written} of 3 records written");
                await Task.Delay(50);
            }
        }
        finally
        {
            await ledger.StopAsync(CancellationToken.None);
        }
        Assert.Equal(0, ledger.Lost);
        await using (var count = data.CreateCommand($"select count(*), sum(total_tokens), sum(cost) from ai_usage where \"user\" = '{user}'"))
        await using (var reader = await count.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal((3L, 300m, 0.000225m), (reader.GetInt64(0), reader.GetDecimal(1), reader.GetDecimal(2)));
        }
        // the day's tokens, counted for the limits once written
        Assert.Equal(300, (long)await _redis.GetDatabase().StringGetAsync(UsageLimiter.TokensKey(user.ToString(), DateTimeOffset.UtcNow)));
    }

    [Fact]
    public async Task What_is_still_unwritten_at_stop_is_counted_as_lost()
    {
        await using var data = new NpgsqlDataSourceBuilder(servers.ConnectionString("missing_" + Guid.NewGuid().ToString("N")[..8])).Build();
        var ledger = new UsageLedger(data, new UsageLimiter(_redis, TimeProvider.System, NullLogger<UsageLimiter>.Instance), NullLogger<UsageLedger>.Instance);
        await ledger.StartAsync(CancellationToken.None);
        ledger.Record(Turn(Guid.NewGuid(), 10));
        ledger.Record(Turn(Guid.NewGuid(), 10));
        await ledger.StopAsync(CancellationToken.None);
        Assert.Equal(0, ledger.Written);
        Assert.Equal(2, ledger.Lost);
    }
}
