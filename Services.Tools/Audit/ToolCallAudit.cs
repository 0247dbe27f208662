using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace AiAssistant.Services.Tools.Audit;

/// <summary>
/// Writes <see cref="ToolCallRecord"/>s into <c>ai_tool_calls</c> without slowing a tool call: <see cref="Record"/>
/// puts the record in a bounded buffer and returns; this background service writes what has gathered, at most
/// <see cref="BatchSize"/> rows per multi-row INSERT. A full buffer drops the record and counts it (a warning with the
/// count, never a record's contents); a failed INSERT is retried a few times, then its batch is dropped and counted.
/// Long texts are cut and at most <see cref="MaxKeys"/> keys are kept, so one record stays small.
/// </summary>
public sealed class ToolCallAudit(NpgsqlDataSource dataSource, ILogger<ToolCallAudit> logger) : BackgroundService, IToolCallAudit
{
    public const int Capacity = 10_000;
    public const int BatchSize = 200;
    public const int MaxKeys = 100;
    private const int MaxText = 200;
    private const int Attempts = 3;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly Channel<ToolCallRecord> _buffer = Channel.CreateBounded<ToolCallRecord>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private long _dropped;

    /// <summary>Records dropped so far (buffer full, or the database refused a batch).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Record(ToolCallRecord record)
    {
        try
        {
            if (!_buffer.Writer.TryWrite(record)) Interlocked.Increment(ref _dropped);
        }
        catch (Exception)
        {
            // an audit record is never worth failing the tool call it describes
            Interlocked.Increment(ref _dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // writes go on for a few seconds once stopping is asked, so what is buffered still reaches the table
        using var writing = new CancellationTokenSource();
        await using var stopping = stoppingToken.Register(() => writing.CancelAfter(StopGrace));
        var batch = new List<ToolCallRecord>(BatchSize);
        long reported = 0;
        while (true)
        {
            try
            {
                if (!await _buffer.Reader.WaitToReadAsync(stoppingToken)) break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            while (batch.Count < BatchSize && _buffer.Reader.TryRead(out var record)) batch.Add(record);
            if (batch.Count == 0) break; // stopping, and nothing is left
            await WriteAsync(batch, writing.Token);
            batch.Clear();
            reported = ReportDropped(reported);
        }
    }

    /// <summary>
    /// Stops the writer, then writes what is still buffered: a stop that comes before the writer's task started
    /// (BackgroundService's task is then cancelled unrun) must not lose the records either.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (ExecuteTask is { IsCompleted: false }) return; // the host gave up waiting: the writer still owns the buffer
        using var writing = new CancellationTokenSource(StopGrace);
        var batch = new List<ToolCallRecord>(BatchSize);
        while (true)
        {
            while (batch.Count < BatchSize && _buffer.Reader.TryRead(out var record)) batch.Add(record);
            if (batch.Count == 0) break;
            await WriteAsync(batch, writing.Token);
            batch.Clear();
        }
        ReportDropped(0);
    }

    private long ReportDropped(long reported)
    {
        var dropped = Dropped;
        if (dropped > reported)
            logger.LogWarning("{Count} tool call audit records dropped ({Total} since start)", dropped - reported, dropped);
        return dropped;
    }

    private async Task WriteAsync(IReadOnlyList<ToolCallRecord> batch, CancellationToken ct)
    {
        if (batch.Count == 0) return;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var cmd = Insert(batch);
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                cmd.Connection = connection;
                await cmd.ExecuteNonQueryAsync(ct);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Interlocked.Add(ref _dropped, batch.Count);
                return;
            }
            catch (Exception e)
            {
                // never let the writer stop: a failing database costs records, not the service
                if (attempt >= Attempts)
                {
                    Interlocked.Add(ref _dropped, batch.Count);
                    logger.LogWarning("Tool call audit batch of {Count} not written ({ExceptionType}); dropped", batch.Count, e.GetType().Name);
                    return;
                }
                try
                {
                    await Task.Delay(RetryDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Add(ref _dropped, batch.Count);
                    return;
                }
            }
        }
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
