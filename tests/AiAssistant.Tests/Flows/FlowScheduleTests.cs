using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Flows;

/// <summary>
/// <c>schedule</c> flows with two Tools replicas (two hosts, each its own connections) over one real content database:
/// each tick runs once whichever replica sees it, a tick older than the last one run never runs, a tick nobody saw
/// within the grace is skipped.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class FlowScheduleTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _one = null!, _two = null!;
    private static readonly FlowActor Actor = new(null, null, "test", null);

    public async Task InitializeAsync()
    {
        _one = await ToolsDatabase.CreateAsync(servers, "flowschedule");
        _two = await _one.ReplicaAsync();
        await _one.Schema.CreateCollectionAsync(Body("""{"collection":"ticks","schema":{},"fields":[{"field":"tick","type":"string"}]}"""), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _two.DisposeAsync();
        await _one.DisposeAsync();
    }

    /// <summary>A schedule flow that writes the tick it runs for into <c>ticks</c>.</summary>
    private Task<Guid> ScheduleAsync(string cron) => _one.Services.GetRequiredService<FlowStore>().CreateFlowAsync(Body($$$"""
        {"name":"Tick","trigger":"schedule","options":{"cron":"{{{cron}}}"},"operation":"5c000000-0000-4000-8000-000000000001","operations":[
          {"id":"5c000000-0000-4000-8000-000000000001","key":"write","type":"item-create",
           "options":{"collection":"ticks","permissions":"$full","payload":{"tick":"{{ $trigger.tick }}"} } }]}
        """), Actor, CancellationToken.None);

    private async Task<List<string>> TicksAsync()
    {
        await using var cmd = _one.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand("select tick from ticks order by id");
        await using var reader = await cmd.ExecuteReaderAsync();
        var ticks = new List<string>();
        while (await reader.ReadAsync()) ticks.Add(reader.GetString(0));
        return ticks;
    }

    private async Task<long> RunsAsync(Guid flow)
    {
        await using var cmd = _one.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            $"select count(*) from content_activity where action = 'run' and collection = 'directus_flows' and item = '{flow}'");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Both replicas look at the same moment; answers how many runs they started together, once those ended.</summary>
    private async Task<int> BothLookAsync(DateTimeOffset now)
    {
        var passes = await Task.WhenAll(new[] { _one, _two }.Select(r => r.Services.GetRequiredService<FlowSchedules>().RunDueAsync(now, CancellationToken.None)));
        await Task.WhenAll(passes.SelectMany(p => p.Runs));
        return passes.Sum(p => p.Runs.Count);
    }

    [Fact]
    public async Task Two_replicas_run_a_tick_once_and_neither_makes_up_a_missed_or_older_tick()
    {
        var flow = await ScheduleAsync("* * * * *");
        var minute = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(1, await BothLookAsync(minute.AddMilliseconds(300)));
        Assert.Equal(0, await BothLookAsync(minute.AddSeconds(2))); // the same tick, seen again
        var next = await BothLookAsync(minute.AddMinutes(1).AddSeconds(1));
        var pass = await _two.Services.GetRequiredService<FlowSchedules>().RunDueAsync(minute.AddMinutes(1).AddSeconds(1.5), CancellationToken.None);
        Assert.Equal((1, 0), (next, pass.Runs.Count));
        Assert.Equal(minute.AddMinutes(2), pass.Next);

        Assert.Equal(0, await BothLookAsync(minute.AddMinutes(4).AddSeconds(30))); // 12:02–12:04 nobody saw in time: skipped
        Assert.Equal(0, await BothLookAsync(minute.AddSeconds(1))); // a replica whose clock is behind: 12:00 ran already
        Assert.Equal(["2026-12-02T12:00:00.000Z", "2026-12-02T12:01:00.000Z"], await TicksAsync());
        Assert.Equal(2, await RunsAsync(flow));

        await _one.Services.GetRequiredService<FlowStore>().UpdateFlowAsync(flow, Body("""{"status":"inactive"}"""), Actor, CancellationToken.None);
        Assert.Equal(0, await BothLookAsync(minute.AddMinutes(5)));
    }

    [Fact]
    public async Task Two_running_replicas_run_an_every_second_schedule_once_per_tick()
    {
        var flow = await ScheduleAsync("* * * * * *");
        var schedulers = new[] { _one, _two }.Select(r => r.Services.GetServices<IHostedService>().OfType<FlowScheduler>().Single()).ToList();
        foreach (var scheduler in schedulers) await scheduler.StartAsync(CancellationToken.None);
        try
        {
            for (var i = 0; i < 300 && (await TicksAsync()).Count < 4; i++) await Task.Delay(50);
        }
        finally
        {
            foreach (var scheduler in schedulers) await scheduler.StopAsync(CancellationToken.None);
        }
        var ticks = await TicksAsync();
        Assert.True(ticks.Count >= 4, $"{ticks.Count} ticks ran");
        Assert.Equal(ticks.Count, ticks.Distinct().Count()); // no tick twice
        Assert.Equal(ticks.Count, await RunsAsync(flow));
        Assert.All(ticks, t => Assert.EndsWith(".000Z", t)); // each run is for a whole second's tick
    }
}
