using System.Diagnostics;
using System.Text.Json;
using AiAssistant.ServiceDefaults.Data;
using Npgsql;
using NpgsqlTypes;

namespace AiAssistant.ServiceDefaults.Outbox;

/// <summary>The outbox table: events written in the same transaction as the change they announce.</summary>
public sealed class OutboxSchema : IDatabaseSchema
{
    public string Sql => """
        create table if not exists outbox_messages (
            id uuid primary key,
            event_type text not null,
            payload jsonb not null,
            trace_parent text,
            created_at timestamptz not null default now(),
            sent_at timestamptz,
            attempts int not null default 0,
            last_error text
        );
        create index if not exists outbox_messages_unsent on outbox_messages (created_at) where sent_at is null;
        """;
}

/// <summary>Wakes the dispatcher right after a commit so events leave without waiting for the next poll.</summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try { _signal.Release(); } catch (SemaphoreFullException) { /* already signalled */ }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>Adds an event to the outbox inside the caller's transaction (eShop's IntegrationEventLog shape).</summary>
public static class OutboxWriter
{
    public static async Task AddAsync<TEvent>(NpgsqlConnection connection, NpgsqlTransaction transaction, TEvent @event,
        CancellationToken ct) where TEvent : class
    {
        await using var cmd = new NpgsqlCommand(
            "insert into outbox_messages (id, event_type, payload, trace_parent) values ($1, $2, $3, $4)", connection, transaction);
        cmd.Parameters.Add(new NpgsqlParameter { Value = Guid.CreateVersion7() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = typeof(TEvent).FullName! });
        cmd.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(@event), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)Activity.Current?.Id ?? DBNull.Value });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
