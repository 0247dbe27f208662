using System.Collections.Concurrent;
using System.Diagnostics;

namespace AiAssistant.Tests.Faults;

/// <summary>
/// Load kept up while a fault happens: <c>workers</c> loops each sending one request after another, every outcome
/// recorded with when it started and ended on the run's own clock.
/// </summary>
public sealed class LoadRun : IAsyncDisposable
{
    public sealed record Outcome(TimeSpan Started, TimeSpan Ended, bool Ok, int Status, string? ServedBy, string What)
    {
        public override string ToString() =>
            $"{(Ok ? "ok" : "FAILED")} {Status} started {Started.TotalSeconds:F2} s ended {Ended.TotalSeconds:F2} s by {ServedBy ?? "-"}: {What}";
    }

    /// <summary>What one request came to: success, HTTP status (0: none), which replica answered, and what happened.</summary>
    public sealed record Result(bool Ok, int Status, string? ServedBy, string What);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Outcome> _outcomes = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;

    private LoadRun(int workers, Func<CancellationToken, Task<Result>> request) =>
        _workers = Enumerable.Range(0, workers).Select(_ => Task.Run(() => LoopAsync(request))).ToArray();

    public static LoadRun Start(int workers, Func<CancellationToken, Task<Result>> request) => new(workers, request);

    public TimeSpan Now => _clock.Elapsed;
    public IReadOnlyList<Outcome> Outcomes => [.. _outcomes.OrderBy(o => o.Started)];

    private async Task LoopAsync(Func<CancellationToken, Task<Result>> request)
    {
        while (!_stop.IsCancellationRequested)
        {
            var started = Now;
            Result result;
            try
            {
                result = await request(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return; // cut by the end of the run, not by the fault
            }
            catch (Exception e)
            {
                result = new Result(false, 0, null, $"{e.GetType().Name}: {e.Message}");
            }
            _outcomes.Enqueue(new Outcome(started, Now, result.Ok, result.Status, result.ServedBy, result.What));
            if (!result.Ok) await Task.Delay(50); // a failing target is not hammered in a tight loop
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the outcomes so far, for at most <paramref name="within"/>.</summary>
    public async Task<bool> WaitForAsync(Func<IReadOnlyList<Outcome>, bool> condition, TimeSpan within)
    {
        var until = Now + within;
        while (!condition(Outcomes))
        {
            if (Now > until) return false;
            await Task.Delay(100);
        }
        return true;
    }

    public async Task StopAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
