using System.Diagnostics;
using System.Text.Json;
using AiAssistant.ServiceDefaults.Telemetry;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AiAssistant.ServiceDefaults.Outbox;

/// <summary>
/// Publishes outbox rows through MassTransit, in batches of up to 100 in the order they were written (a batch's rows
/// at once: consumers never rely on their order, versions do) and marks them sent. While RabbitMQ is
/// away a publish fails or times out; the row stays unsent and is retried with a growing pause, so nothing is lost.
/// </summary>
public sealed class OutboxDispatcher(
    NpgsqlDataSource dataSource,
    IBus bus,
    OutboxSignal signal,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);
    private static readonly Dictionary<string, Type> EventTypes = typeof(Contracts.AiSettingsChanged).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(Contracts.AiSettingsChanged).Namespace && t.IsClass && !t.IsAbstract && t.IsPublic)
        .ToDictionary(t => t.FullName!, t => t);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var sent = await DispatchBatchAsync(stoppingToken);
                if (failures > 0) logger.LogInformation("Outbox: the message broker is reachable again");
                failures = 0;
                if (sent == 0) await signal.WaitAsync(PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                var pause = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6))));
                if (failures == 1 || failures % 10 == 0)
                    logger.LogWarning("Outbox: publishing failed ({ExceptionType}), attempt {Attempt}; retrying in {Pause} ms",
                        e.GetType().Name, failures, pause.TotalMilliseconds);
                try { await Task.Delay(pause, stoppingToken); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Sends up to 100 unsent rows; returns how many were sent.</summary>
    public async Task<int> DispatchBatchAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = new List<(Guid Id, string Type, string Payload, string? TraceParent)>();
        await using (var select = new NpgsqlCommand(
            "select id, event_type, payload::text, trace_parent from outbox_messages where sent_at is null order by created_at, id limit 100 for update skip locked",
            connection, tx))
        await using (var reader = await select.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                rows.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        }
        if (rows.Count == 0) return 0;

        // the batch's publishes go out together, each awaiting its broker confirm: one at a time, the confirms' round trips
        // capped the dispatcher at a few hundred events a second
        var published = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        Exception? failure = null;
        try
        {
            await Task.WhenAll(rows.Select(async row =>
            {
                if (!EventTypes.TryGetValue(row.Type, out var type))
                {
                    logger.LogError("Outbox: unknown event type {EventType}; the row is left unsent", row.Type);
                    return;
                }
                var message = JsonSerializer.Deserialize(row.Payload, type)!;
                // Continue the trace of the request that wrote the event.
                using var activity = AiAssistantActivity.Source.StartActivity($"outbox publish {type.Name}", ActivityKind.Producer,
                    row.TraceParent is not null && ActivityContext.TryParse(row.TraceParent, null, out var parent) ? parent : default);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(PublishTimeout);
                await bus.Publish(message, type, timeout.Token);
                published.Add(row.Id);
            }));
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            // Whatever was published is marked sent even when another row failed (at-least-once).
            if (!published.IsEmpty)
            {
                await using var mark = new NpgsqlCommand("update outbox_messages set sent_at = now(), attempts = attempts + 1 where id = any($1)", connection, tx);
                mark.Parameters.Add(new NpgsqlParameter { Value = published.ToArray() });
                await mark.ExecuteNonQueryAsync(CancellationToken.None);
            }
            await tx.CommitAsync(CancellationToken.None);
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        var sent = published.Count;
        return sent;
    }
}
