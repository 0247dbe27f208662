using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiAssistant.ServiceDefaults.Data;

/// <summary>
/// Rows written into a table off the request's path (Tools' audit of tool calls, Chat's usage ledger):
/// <see cref="TryBuffer"/> puts a record in a bounded buffer and returns at once; this background service waits
/// <see cref="GatherWindow"/> after the first record, so what arrives meanwhile goes out in the same statement, and writes
/// at most <see cref="MaxBatch"/> records per <see cref="WriteBatchAsync"/>. A batch the database refuses is retried
/// with backoff, up to <see cref="MaxAttempts"/> times (null: until it is written). Once stopping is asked, writing goes
/// on for <see cref="StopGrace"/>; what is still unwritten then is lost, and every loss reaches <see cref="OnLost"/>.
/// </summary>
public abstract class BufferedTableWriter<T> : BackgroundService
{
    public enum Loss { BufferFull, GaveUp, Stopped }

    private readonly Channel<T> _buffer;
    private long _lost;
    private long _written;

    private readonly ILogger logger;

    protected BufferedTableWriter(int capacity, int batchSize, ILogger logger)
    {
        this.logger = logger;
        MaxBatch = batchSize;
        _buffer = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

    /// <summary>The most records one <see cref="WriteBatchAsync"/> gets.</summary>
    protected int MaxBatch { get; }

    /// <summary>Records lost so far (buffer full, given up on, or still unwritten when the service stopped).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>Records written so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>How long the writer gathers after the first record: under load one statement takes many rows.</summary>
    protected virtual TimeSpan GatherWindow => TimeSpan.FromMilliseconds(50);

    /// <summary>Attempts per batch before it is dropped; null keeps retrying until it is written or stopping ends.</summary>
    protected virtual int? MaxAttempts => null;

    protected virtual TimeSpan FirstRetry => TimeSpan.FromMilliseconds(250);
    protected virtual TimeSpan LongestRetry => TimeSpan.FromSeconds(10);
    protected virtual TimeSpan StopGrace => TimeSpan.FromSeconds(5);

    /// <summary>One attempt to write the batch; throws when the database refuses it.</summary>
    protected abstract Task WriteBatchAsync(IReadOnlyList<T> batch, CancellationToken ct);

    /// <summary>After a batch is written (the ledger counts its tokens then); what it throws is logged, not retried.</summary>
    protected virtual Task OnWrittenAsync(IReadOnlyList<T> batch) => Task.CompletedTask;

    /// <summary>A refused attempt that will be retried (<paramref name="attempt"/> from 1).</summary>
    protected abstract void OnRetry(int count, Exception error, int attempt);

    /// <summary>Records lost, and why; <see cref="Lost"/> already counts them.</summary>
    protected abstract void OnLost(int count, Loss why, Exception? error);

    /// <summary>False, and the record counted as lost, when the buffer is full.</summary>
    protected bool TryBuffer(T record)
    {
        try
        {
            if (_buffer.Writer.TryWrite(record)) return true;
        }
        catch (Exception)
        {
            // a record is never worth failing the request it describes
        }
        Lose(1, Loss.BufferFull, null);
        return false;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var writing = new CancellationTokenSource();
        await using var stopping = stoppingToken.Register(() => writing.CancelAfter(StopGrace));
        while (true)
        {
            try
            {
                if (!await _buffer.Reader.WaitToReadAsync(stoppingToken)) break;
                if (_buffer.Reader.Count < MaxBatch) await Task.Delay(GatherWindow, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            if (!await DrainOnceAsync(writing.Token)) break;
        }
    }

    /// <summary>Stops the writer, then writes what is still buffered: a stop can come before the writer's task ever ran.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (ExecuteTask is { IsCompleted: false }) return; // the host gave up waiting: the writer still owns the buffer
        using var writing = new CancellationTokenSource(StopGrace);
        while (await DrainOnceAsync(writing.Token)) { }
    }

    /// <summary>Writes one batch of what is buffered; false when nothing was left or writing has to end.</summary>
    private async Task<bool> DrainOnceAsync(CancellationToken ct)
    {
        var batch = new List<T>(MaxBatch);
        while (batch.Count < MaxBatch && _buffer.Reader.TryRead(out var record)) batch.Add(record);
        if (batch.Count == 0) return false;
        var delay = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteBatchAsync(batch, ct);
                break;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                LoseRest(batch, null);
                return false;
            }
            catch (Exception e)
            {
                if (attempt >= MaxAttempts)
                {
                    Lose(batch.Count, Loss.GaveUp, e);
                    return true; // the next batch may fare better
                }
                OnRetry(batch.Count, e, attempt);
                try
                {
                    await Task.Delay(delay, ct);
                }
                catch (OperationCanceledException)
                {
                    LoseRest(batch, e);
                    return false;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks));
            }
        }
        // outside the retries: a batch once written is never written again
        Interlocked.Add(ref _written, batch.Count);
        try
        {
            await OnWrittenAsync(batch);
        }
        catch (Exception e)
        {
            logger.LogWarning("{Writer}: after a batch of {Count} was written, {ExceptionType}", GetType().Name, batch.Count, e.GetType().Name);
        }
        return true;
    }

    /// <summary>Writing ends: the batch in hand and everything still buffered are lost.</summary>
    private void LoseRest(List<T> batch, Exception? error)
    {
        while (_buffer.Reader.TryRead(out var record)) batch.Add(record);
        Lose(batch.Count, Loss.Stopped, error);
    }

    private void Lose(int count, Loss why, Exception? error)
    {
        Interlocked.Add(ref _lost, count);
        OnLost(count, why, error);
    }
}
