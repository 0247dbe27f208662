using System.Text;
using System.Text.Json;
using AiAssistant.ServiceDefaults.Data;
using Npgsql;
using NpgsqlTypes;

namespace AiAssistant.Services.Tools.Audit;

/// <summary>
/// Writes <see cref="ToolCallRecord"/>s into <c>ai_tool_calls</c> without slowing a tool call
/// (<see cref="BufferedTableWriter{T}"/>): <see cref="Record"/> buffers the record and returns; the writer sends what
/// gathered as one multi-row INSERT of at most <see cref="BatchSize"/> rows. A full buffer drops the record and counts
/// it (a warning with the count after the next batch, never a record's contents); a refused INSERT is tried
/// <see cref="Attempts"/> times a second apart, then its batch is dropped and counted. Long texts are cut and at most
/// <see cref="MaxKeys"/> keys are kept, so one record stays small.
/// </summary>
public sealed class ToolCallAudit(NpgsqlDataSource dataSource, ILogger<ToolCallAudit> logger)
    : BufferedTableWriter<ToolCallRecord>(Capacity, BatchSize, logger), IToolCallAudit
{
    public const int Capacity = 10_000;
    public const int BatchSize = 200;
    public const int MaxKeys = 100;
    private const int MaxText = 200;
    private const int Attempts = 3;
    private long _reported;

    protected override int? MaxAttempts => Attempts;
    protected override TimeSpan FirstRetry => TimeSpan.FromSeconds(1);
    protected override TimeSpan LongestRetry => TimeSpan.FromSeconds(1);

    /// <summary>Records dropped so far (buffer full, or the database refused a batch).</summary>
    public long Dropped => Lost;

    public void Record(ToolCallRecord record) => TryBuffer(record);

    protected override async Task WriteBatchAsync(IReadOnlyList<ToolCallRecord> batch, CancellationToken ct)
    {
        await using var cmd = Insert(batch);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        cmd.Connection = connection;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>What a full buffer dropped is told once a batch is out, as one count.</summary>
    protected override Task OnWrittenAsync(IReadOnlyList<ToolCallRecord> batch)
    {
        var dropped = Dropped;
        if (dropped > _reported)
            logger.LogWarning("{Count} tool call audit records dropped ({Total} since start)", dropped - _reported, dropped);
        _reported = dropped;
        return Task.CompletedTask;
    }

    protected override void OnRetry(int count, Exception error, int attempt) { }

    protected override void OnLost(int count, Loss why, Exception? error)
    {
        // a full buffer is told after the next batch (OnWrittenAsync): one line, not one per record
        if (why == Loss.GaveUp)
            logger.LogWarning("Tool call audit batch of {Count} not written ({ExceptionType}); dropped", count, error?.GetType().Name);
        else if (why == Loss.Stopped)
            logger.LogWarning("{Count} tool call audit records not written before the service stopped", count);
    }

    /// <summary>One INSERT of every record of <paramref name="batch"/>, all values as parameters.</summary>
    internal static NpgsqlCommand Insert(IReadOnlyList<ToolCallRecord> batch)
    {
        const int columns = 10;
        var sql = new StringBuilder("insert into ai_tool_calls (timestamp, \"user\", surface, tool, action, collection, keys, outcome, error_code, duration_ms) values ");
        var cmd = new NpgsqlCommand();
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            if (i > 0) sql.Append(", ");
            sql.Append('(');
            for (var c = 1; c <= columns; c++) sql.Append(c == 1 ? "" : ", ").Append('$').Append(i * columns + c);
            sql.Append(')');
            var keys = r.Keys is null ? null : JsonSerializer.Serialize(r.Keys.Take(MaxKeys).Select(k => Cut(k)));
            cmd.Parameters.Add(new NpgsqlParameter { Value = r.Timestamp.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new NpgsqlParameter { Value = Guid.TryParse(r.UserId, out var user) ? user : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            cmd.Parameters.Add(Text(Array.IndexOf(ToolCallTables.Surfaces, r.Surface) >= 0 ? r.Surface : "chat"));
            cmd.Parameters.Add(Text(Cut(r.Tool) ?? ""));
            cmd.Parameters.Add(Text(Cut(r.Action)));
            cmd.Parameters.Add(Text(Cut(r.Collection)));
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)keys ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb });
            cmd.Parameters.Add(Text(Array.IndexOf(ToolCallTables.Outcomes, r.Outcome) >= 0 ? r.Outcome : "error"));
            cmd.Parameters.Add(Text(Cut(r.ErrorCode)));
            cmd.Parameters.Add(new NpgsqlParameter { Value = double.IsFinite(r.DurationMs) && r.DurationMs >= 0 ? r.DurationMs : 0d, NpgsqlDbType = NpgsqlDbType.Double });
        }
        cmd.CommandText = sql.ToString();
        return cmd;
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static string? Cut(string? text) => text is { Length: > MaxText } ? text[..MaxText] : text;
}
