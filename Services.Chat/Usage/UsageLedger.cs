using System.Text;
using System.Threading.Channels;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.Services.Chat.Providers;
using AiAssistant.Services.Chat.ToolLoop;
using Npgsql;
using NpgsqlTypes;

namespace AiAssistant.Services.Chat.Usage;

/// <summary>
/// Writes <see cref="UsageRecord"/>s into <c>ai_usage</c> off the stream's path: <see cref="Record"/> (called once the
/// turn's <c>[DONE]</c> is out) puts the record in a bounded buffer and returns; this background service writes what
/// has gathered, at most <see cref="BatchSize"/> rows per INSERT, and counts each user's tokens of the day in Redis
/// (<see cref="UsageLimiter"/>). The ledger is what users are billed and limited by, so a batch the database refuses
/// is kept and retried with backoff until it is written; only a full buffer or a stop that outlasts
/// <see cref="StopGrace"/> loses records, and each loss is an error in the log with its count, never silent.
/// </summary>
public sealed class UsageLedger(NpgsqlDataSource dataSource, UsageLimiter limiter, ILogger<UsageLedger> logger) : BackgroundService
{
    public const int Capacity = 20_000;
    public const int BatchSize = 200;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly Channel<UsageRecord> _buffer = Channel.CreateBounded<UsageRecord>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private long _lost;
    private long _written;

    /// <summary>Records lost so far (buffer full, or still unwritten when the service stopped).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Records written so far.</summary>
    public long Written => Interlocked.Read(ref _written);

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
        if (_buffer.Writer.TryWrite(record)) return;
        var lost = Interlocked.Increment(ref _lost);
        logger.LogError("Usage ledger buffer full ({Capacity}): a turn of user {User} on {Provider}/{Model} was not recorded ({Lost} lost since start)",
            Capacity, record.User, record.Provider, record.Model, lost);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // writes go on for a few seconds once stopping is asked, so what is buffered still reaches the table
        using var writing = new CancellationTokenSource();
        await using var stopping = stoppingToken.Register(() => writing.CancelAfter(StopGrace));
        var batch = new List<UsageRecord>(BatchSize);
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
            if (!await WriteAsync(batch, writing.Token))
            {
                LoseRemaining(batch);
                break;
            }
            batch.Clear();
        }
    }

    /// <summary>Stops the writer, then writes what is still buffered (a stop can come before the writer ever ran).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (ExecuteTask is { IsCompleted: false }) return; // the host gave up waiting: the writer still owns the buffer
        using var writing = new CancellationTokenSource(StopGrace);
        var batch = new List<UsageRecord>(BatchSize);
        while (true)
        {
            while (batch.Count < BatchSize && _buffer.Reader.TryRead(out var record)) batch.Add(record);
            if (batch.Count == 0) break;
            if (!await WriteAsync(batch, writing.Token))
            {
                LoseRemaining(batch);
                break;
            }
            batch.Clear();
        }
    }

    private void LoseRemaining(List<UsageRecord> batch)
    {
        while (_buffer.Reader.TryRead(out var record)) batch.Add(record);
        var lost = Interlocked.Add(ref _lost, batch.Count);
        logger.LogError("{Count} usage ledger records not written before the service stopped ({Lost} lost since start)", batch.Count, lost);
    }

    /// <summary>Writes the batch, retrying with backoff while the database refuses; false only once <paramref name="ct"/> ends.</summary>
    private async Task<bool> WriteAsync(IReadOnlyList<UsageRecord> batch, CancellationToken ct)
    {
        var delay = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var cmd = Insert(batch);
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                cmd.Connection = connection;
                await cmd.ExecuteNonQueryAsync(ct);
                Interlocked.Add(ref _written, batch.Count);
                break;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return false;
            }
            catch (Exception e)
            {
                if (attempt == 1 || attempt % 10 == 0)
                    logger.LogWarning("Usage ledger batch of {Count} not written yet ({ExceptionType}, attempt {Attempt}); kept and retried",
                        batch.Count, e.GetType().Name, attempt);
                try
                {
                    await Task.Delay(delay, ct);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks));
            }
        }
        await limiter.CountTokensAsync(batch);
        return true;
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
