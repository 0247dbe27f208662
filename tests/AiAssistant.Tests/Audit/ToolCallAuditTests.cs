using System.Diagnostics;
using AiAssistant.Services.Tools.Audit;
using AiAssistant.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.Audit;

/// <summary>The audit writer against real PostgreSQL: rows as recorded, bounded values, a full buffer, a database away.</summary>
[Collection(ServersCollection.Name)]
public sealed class ToolCallAuditTests(ServersFixture servers) : IAsyncLifetime
{
    private NpgsqlDataSource _data = null!;

    public async Task InitializeAsync()
    {
        var database = "audit_" + Guid.NewGuid().ToString("N")[..8];
        await servers.Postgres.EnsureDatabasesAsync([database]);
        _data = new NpgsqlDataSourceBuilder(servers.ConnectionString(database)).Build();
        await using var cmd = _data.CreateCommand(new ToolCallTables().Sql);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _data.DisposeAsync();

    private static ToolCallRecord Call(string tool = "items", string outcome = "ok", string? user = null, IReadOnlyList<string>? keys = null) =>
        new(DateTimeOffset.UtcNow, user, "mcp", tool, "read", "articles", keys, outcome, null, 1.5);

    private async Task<long> CountAsync(string where = "true")
    {
        await using var cmd = _data.CreateCommand($"select count(*) from ai_tool_calls where {where}");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<bool> EventuallyAsync(Func<Task<bool>> done)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (await done()) return true;
            await Task.Delay(50);
        }
        return false;
    }

    [Fact]
    public async Task Records_reach_the_table_with_their_values_and_nothing_longer_than_allowed()
    {
        using var audit = new ToolCallAudit(_data, NullLogger<ToolCallAudit>.Instance);
        await audit.StartAsync(default);
        var user = Guid.NewGuid().ToString();
        var at = new DateTimeOffset(2026, 3, 4, 5, 6, 7, 250, TimeSpan.FromHours(2));
        audit.Record(new ToolCallRecord(at, user, "chat", "items", "delete", "articles", ["1", "2"], "denied", "FORBIDDEN", 12.25));
        audit.Record(new ToolCallRecord(at, "not-a-uuid", "elsewhere", new string('t', 500), null, null, Enumerable.Range(0, 150).Select(i => $"k{i}").ToList(),
            "exploded", null, double.NaN));

        Assert.True(await EventuallyAsync(async () => await CountAsync() == 2));
        await using (var cmd = _data.CreateCommand("""
            select timestamp, "user"::text, surface, tool, action, collection, keys::text, outcome, error_code, duration_ms from ai_tool_calls where outcome = 'denied'
            """))
        await using (var row = await cmd.ExecuteReaderAsync())
        {
            Assert.True(await row.ReadAsync());
            Assert.Equal(at.UtcDateTime, row.GetDateTime(0));
            Assert.Equal(user, row.GetString(1));
            Assert.Equal(["chat", "items", "delete", "articles", """["1", "2"]""", "denied", "FORBIDDEN"],
                Enumerable.Range(2, 7).Select(row.GetString));
            Assert.Equal(12.25, row.GetDouble(9));
        }
        // a value outside what the table takes becomes the safe one, never a failed batch
        await using (var cmd = _data.CreateCommand("""
            select "user" is null, surface, length(tool), jsonb_array_length(keys), outcome, duration_ms from ai_tool_calls where outcome <> 'denied'
            """))
        await using (var row = await cmd.ExecuteReaderAsync())
        {
            Assert.True(await row.ReadAsync());
            Assert.True(row.GetBoolean(0));
            Assert.Equal("chat", row.GetString(1));
            Assert.Equal(200, row.GetInt32(2));
            Assert.Equal(ToolCallAudit.MaxKeys, row.GetInt32(3));
            Assert.Equal("error", row.GetString(4));
            Assert.Equal(0d, row.GetDouble(5));
        }
        await audit.StopAsync(default);
    }

    [Fact]
    public async Task A_full_buffer_drops_and_counts_without_blocking_and_the_rest_is_written_in_batches()
    {
        using var audit = new ToolCallAudit(_data, NullLogger<ToolCallAudit>.Instance);
        var tool = "full-" + Guid.NewGuid().ToString("N")[..6];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < ToolCallAudit.Capacity + 25; i++) audit.Record(Call(tool));
        clock.Stop();
        Assert.Equal(25, audit.Dropped);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"recording took {clock.Elapsed}");

        await audit.StartAsync(default);
        Assert.True(await EventuallyAsync(async () => await CountAsync($"tool = '{tool}'") == ToolCallAudit.Capacity),
            $"{await CountAsync($"tool = '{tool}'")} of {ToolCallAudit.Capacity} rows written");
        await audit.StopAsync(default);
    }

    [Fact]
    public async Task Records_still_buffered_when_the_service_stops_are_written()
    {
        using var audit = new ToolCallAudit(_data, NullLogger<ToolCallAudit>.Instance);
        var tool = "stop-" + Guid.NewGuid().ToString("N")[..6];
        await audit.StartAsync(default);
        for (var i = 0; i < 500; i++) audit.Record(Call(tool));
        await audit.StopAsync(default);
        Assert.Equal(500, await CountAsync($"tool = '{tool}'"));
        Assert.Equal(0, audit.Dropped);
    }

    [Fact]
    public async Task Records_are_written_at_stop_even_when_the_writer_never_ran()
    {
        // what happens when a stop comes before BackgroundService's task started: the task is cancelled unrun
        using var audit = new ToolCallAudit(_data, NullLogger<ToolCallAudit>.Instance);
        var tool = "unrun-" + Guid.NewGuid().ToString("N")[..6];
        for (var i = 0; i < 300; i++) audit.Record(Call(tool));
        await audit.StopAsync(default);
        Assert.Equal(300, await CountAsync($"tool = '{tool}'"));
    }

    [Fact]
    public async Task A_database_away_costs_the_records_not_the_service()
    {
        // a port nothing listens on
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var away = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={port};Username=x;Password=y;Timeout=2");
        using var audit = new ToolCallAudit(away, NullLogger<ToolCallAudit>.Instance);
        await audit.StartAsync(default);
        audit.Record(Call());
        audit.Record(Call());
        Assert.True(await EventuallyAsync(() => Task.FromResult(audit.Dropped == 2)), $"dropped {audit.Dropped}");
        Assert.False(audit.ExecuteTask!.IsCompleted, "the writer stopped");
        await audit.StopAsync(default);
    }
}
