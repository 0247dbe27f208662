using System.Text.Json.Nodes;
using Cronos;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>What one look for due ticks did: the runs it started and when the next tick of any schedule falls.</summary>
public sealed record SchedulePass(IReadOnlyList<Task> Runs, DateTimeOffset? Next);

/// <summary>
/// <c>schedule</c> flows: an active one runs once per tick of its <c>options.cron</c> (five fields, or six with
/// seconds first, in UTC) whichever replicas are running. Every replica looks for due ticks; the one whose claim of a
/// tick moves the flow's row in <c>directus_flow_schedule_ticks</c> forward runs it, the others find the row already
/// there. The row only moves forward, so a tick is never run twice, and a tick older than the last one claimed is
/// never run at all; a tick nobody saw within <see cref="ScheduleOptions.Grace"/> (all replicas down) is skipped,
/// not made up later. A run has no user (<c>$accountability</c> is null); its <c>$trigger</c> is
/// <c>{"tick": "…"}</c>, the time of the tick it runs for (Directus gives a schedule run no data).
/// </summary>
public sealed class FlowSchedules(NpgsqlDataSource dataSource, FlowStore store, FlowRunner runner, IOptions<FlowOptions> options,
    ILogger<FlowSchedules> log)
{
    private static readonly FlowActor Actor = new(null, null, "flow-schedule", null);

    /// <summary>Claims and starts the runs of every tick due at <paramref name="now"/>.</summary>
    public async Task<SchedulePass> RunDueAsync(DateTimeOffset now, CancellationToken ct)
    {
        var grace = options.Value.Schedule.Grace;
        var runs = new List<Task>();
        DateTimeOffset? next = null;
        foreach (var (flow, cron) in await SchedulesAsync(ct))
        {
            if (cron.GetNextOccurrence(now, TimeZoneInfo.Utc) is { } upcoming && (next is null || upcoming < next)) next = upcoming;
            // the latest tick within the grace; older ones in it were either run already or are not made up
            if (cron.GetOccurrences(now - grace, now, TimeZoneInfo.Utc, fromInclusive: false, toInclusive: true).Select(t => (DateTimeOffset?)t).LastOrDefault() is not { } tick
                || !await ClaimAsync(flow, tick, ct)) continue;
            runs.Add(RunAsync(flow, tick));
        }
        return new SchedulePass(runs, next);
    }

    private async Task RunAsync(Guid id, DateTimeOffset tick)
    {
        try
        {
            if (await store.FlowAsync(id, CancellationToken.None) is not { Status: "active", Trigger: "schedule" } flow) return;
            await runner.RunAsync(flow, new JsonObject { ["tick"] = FlowJson.Time(tick) }, null, Actor, CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Schedule flow {Flow} failed for its tick {Tick}", id, tick);
        }
    }

    private async Task<List<(Guid Flow, CronExpression Cron)>> SchedulesAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("select id, options->>'cron' from directus_flows where status = 'active' and trigger = 'schedule'");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var schedules = new List<(Guid, CronExpression)>();
        while (await reader.ReadAsync(ct))
        {
            if (reader.IsDBNull(1)) continue;
            try
            {
                schedules.Add((reader.GetGuid(0), FlowValidation.Cron(reader.GetString(1))));
            }
            catch (ServiceDefaults.Errors.DirectusException)
            {
                // stored before it was checked: never due
            }
        }
        return schedules;
    }

    /// <summary>Moves the flow's last tick forward to <paramref name="tick"/>; only one replica's claim of a tick can.</summary>
    private async Task<bool> ClaimAsync(Guid flow, DateTimeOffset tick, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            insert into directus_flow_schedule_ticks as t (flow, tick) select $1, $2 where exists (select 1 from directus_flows where id = $1)
            on conflict (flow) do update set tick = excluded.tick where t.tick < excluded.tick
            """);
        cmd.Parameters.AddWithValue(flow);
        cmd.Parameters.AddWithValue(tick.ToUniversalTime());
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }
}

/// <summary>Looks for due schedule ticks on this replica: at the next tick of any schedule, and at least every <see cref="ScheduleOptions.Interval"/>.</summary>
public sealed class FlowScheduler(FlowSchedules schedules, TimeProvider time, IOptions<FlowOptions> options, ILogger<FlowScheduler> log) : BackgroundService
{
    private readonly List<Task> _running = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.Schedule.Interval;
            try
            {
                var pass = await schedules.RunDueAsync(time.GetUtcNow(), stoppingToken);
                lock (_running)
                {
                    _running.RemoveAll(t => t.IsCompleted);
                    _running.AddRange(pass.Runs);
                }
                if (pass.Next is { } next && next - time.GetUtcNow() < wait) wait = next - time.GetUtcNow();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("Flow schedules could not be read ({ExceptionType}); looking again in {Wait}", e.GetType().Name, wait);
            }
            try
            {
                await Task.Delay(wait < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Task[] running;
        lock (_running) running = [.. _running];
        // the runs started finish (a run is short; the host's shutdown timeout bounds it)
        await Task.WhenAll(running).WaitAsync(cancellationToken);
    }
}
