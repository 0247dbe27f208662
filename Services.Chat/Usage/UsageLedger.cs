using System.Text;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using Npgsql;
using NpgsqlTypes;

namespace AiAssistant.Services.Chat.Usage;

/// <summary>
/// Writes <see cref="UsageRecord"/>s into <c>ai_usage</c> off the stream's path (<see cref="BufferedTableWriter{T}"/>):
/// <see cref="Record"/> (called once the turn's <c>[DONE]</c> is out) buffers the record and returns; the writer sends
/// what gathered, at most <see cref="BatchSize"/> rows per INSERT, and counts each user's tokens of the day in Redis
/// (<see cref="UsageLimiter"/>). The ledger is what users are billed and limited by, so a batch the database refuses
/// is kept and retried with backoff until it is written; only a full buffer or a stop that outlasts the writer's grace
/// loses records, and each loss is an error in the log with its count, never silent.
/// </summary>
public sealed class UsageLedger(NpgsqlDataSource dataSource, UsageLimiter limiter, ILogger<UsageLedger> logger)
    : BufferedTableWriter<UsageRecord>(Capacity, BatchSize, logger)
{
    public const int Capacity = 20_000;
    public const int BatchSize = 200;

    /// <summary>Records a turn of <paramref name="caller"/> on <paramref name="provider"/>'s <paramref name="model"/>, priced by its catalog entry.</summary>
    public void RecordTurn(DateTimeOffset at, CallerIdentity caller, string endpoint, ConfiguredProvider provider, string model, TurnUsage usage, string outcome)
    {
        if (UsageRecord.Of(at, caller.UserId, caller.RoleId, endpoint, provider.Config.Id, model,
                provider.Config.Models.FirstOrDefault(m => m.Id == model), usage, outcome) is { } record)
            Record(record);
        else logger.LogWarning("A turn of a caller that is not a user was not recorded in the usage ledger");
    }

    public void Record(UsageRecord record)
    {
        if (!TryBuffer(record))
            logger.LogError("Usage ledger buffer full ({Capacity}): a turn of user {User} on {Provider}/{Model} was not recorded ({Lost} lost since start)",
                Capacity, record.User, record.Provider, record.Model, Lost);
    }

    protected override async Task WriteBatchAsync(IReadOnlyList<UsageRecord> batch, CancellationToken ct)
    {
        await using var cmd = Insert(batch);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        cmd.Connection = connection;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    protected override Task OnWrittenAsync(IReadOnlyList<UsageRecord> batch) => limiter.CountTokensAsync(batch);

    protected override void OnRetry(int count, Exception error, int attempt)
    {
        if (attempt == 1 || attempt % 10 == 0)
            logger.LogWarning("Usage ledger batch of {Count} not written yet ({ExceptionType}, attempt {Attempt}); kept and retried",
                count, error.GetType().Name, attempt);
    }

    protected override void OnLost(int count, Loss why, Exception? error)
    {
        // a full buffer is told by Record, with the turn it lost
        if (why != Loss.BufferFull)
            logger.LogError("{Count} usage ledger records not written before the service stopped ({Lost} lost since start)", count, Lost);
    }

    /// <summary>One INSERT of every record of <paramref name="batch"/>, all values as parameters.</summary>
    internal static NpgsqlCommand Insert(IReadOnlyList<UsageRecord> batch)
    {
        const int columns = 13;
        var sql = new StringBuilder("""
            insert into ai_usage (timestamp, "user", role, endpoint, provider, model, input_tokens, output_tokens, total_tokens,
                cache_read_tokens, cache_creation_tokens, cost, outcome) values
            """);
        var cmd = new NpgsqlCommand();
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            sql.Append(i > 0 ? ", (" : " (");
            for (var c = 1; c <= columns; c++) sql.Append(c == 1 ? "" : ", ").Append('$').Append(i * columns + c);
            sql.Append(')');
            cmd.Parameters.Add(new NpgsqlParameter { Value = r.Timestamp.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter { Value = r.User, NpgsqlDbType = NpgsqlDbType.Uuid });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)r.Role ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            cmd.Parameters.Add(Text(Array.IndexOf(UsageTables.Endpoints, r.Endpoint) >= 0 ? r.Endpoint : "chat"));
            cmd.Parameters.Add(Text(r.Provider));
            cmd.Parameters.Add(Text(r.Model));
            cmd.Parameters.Add(Number(r.InputTokens));
            cmd.Parameters.Add(Number(r.OutputTokens));
            cmd.Parameters.Add(Number(r.TotalTokens));
            cmd.Parameters.Add(Number(r.CacheReadTokens));
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)r.CacheCreationTokens ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
            cmd.Parameters.Add(new NpgsqlParameter { Value = r.Cost, NpgsqlDbType = NpgsqlDbType.Numeric });
            cmd.Parameters.Add(Text(Array.IndexOf(UsageTables.Outcomes, r.Outcome) >= 0 ? r.Outcome : "error"));
        }
        cmd.CommandText = sql.ToString();
        return cmd;
    }

    private static NpgsqlParameter Text(string value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Number(long value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Bigint };
}
