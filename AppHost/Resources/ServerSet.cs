using AiAssistant.Contracts;

namespace AiAssistant.AppHost.Resources;

/// <summary>PostgreSQL, Redis and RabbitMQ with their data in one folder (postgres/, redis/, rabbitmq/), started in parallel.</summary>
public sealed class ServerSet : IAsyncDisposable
{
    public ServerSet(string dataFolder, ServerOptions? options = null)
    {
        DataFolder = Path.GetFullPath(dataFolder);
        Postgres = new PostgresServer(Path.Combine(DataFolder, ResourceNames.Postgres), options: options);
        Redis = new RedisServer(Path.Combine(DataFolder, ResourceNames.Redis), options: options);
        RabbitMq = new RabbitMqServer(Path.Combine(DataFolder, ResourceNames.RabbitMq), options: options);
    }

    public string DataFolder { get; }
    public PostgresServer Postgres { get; }
    public RedisServer Redis { get; }
    public RabbitMqServer RabbitMq { get; }
    public IReadOnlyList<ServerResource> All => [Postgres, Redis, RabbitMq];

    /// <summary>Starts all three at once; if one fails, stops the others and throws its failure.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var starts = All.Select(s => StartOrCancelOthersAsync(s, failFast)).ToList();
        try
        {
            await Task.WhenAll(starts).ConfigureAwait(false);
        }
        catch
        {
            await StopAsync().ConfigureAwait(false);
            // report the real failure, not a sibling's cancellation
            var failure = starts.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault();
            if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            throw;
        }
    }

    private static async Task StartOrCancelOthersAsync(ServerResource server, CancellationTokenSource failFast)
    {
        try { await server.StartAsync(failFast.Token).ConfigureAwait(false); }
        catch
        {
            await failFast.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task StopAsync() => Task.WhenAll(All.Select(s => s.StopAsync()));

    /// <summary>SIGKILL to every server process (forced shutdown).</summary>
    public void Kill()
    {
        foreach (var server in All) server.Kill();
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
