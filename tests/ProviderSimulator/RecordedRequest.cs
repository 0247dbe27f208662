using Microsoft.AspNetCore.Http;

namespace AiAssistant.ProviderSimulator;

/// <summary>A request the simulated provider received. <see cref="Headers"/> is case-insensitive; repeated headers are joined with ",".</summary>
public sealed record RecordedRequest(
    DateTimeOffset Time,
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    string Body)
{
    /// <summary>
    /// Completes when the simulator is done with the request: true when the client closed the connection before the
    /// reply was complete (a stop, a cancelled call), false otherwise (a scripted hang-up is the simulator's own).
    /// </summary>
    public Task<bool> ClosedByClient { get; init; } = Task.FromResult(false);

    /// <summary>The connection it came on (Kestrel's id): requests of one client that reuse a connection share it.</summary>
    public string ConnectionId { get; init; } = "";
}

/// <summary>
/// The thread-safe record of provider requests. It keeps the newest <see cref="Limit"/> so a long benchmark stays
/// bounded; a limit of 0 records nothing and saves a benchmark the copying.
/// </summary>
internal sealed class RequestLog
{
    private readonly Lock gate = new();
    private readonly Queue<RecordedRequest> requests = new();
    private int limit = 10_000;

    public int Limit
    {
        get => limit;
        set => limit = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "The limit cannot be negative.");
    }

    public bool IsRecording => limit > 0;

    public int Count
    {
        get { lock (gate) { return requests.Count; } }
    }

    public void Add(RecordedRequest request)
    {
        lock (gate)
        {
            requests.Enqueue(request);
            while (requests.Count > limit)
            {
                requests.Dequeue();
            }
        }
    }

    public RecordedRequest[] Snapshot()
    {
        lock (gate) { return [.. requests]; }
    }

    public void Clear()
    {
        lock (gate) { requests.Clear(); }
    }
}

/// <summary>Marks a connection the simulator drops itself, so that it is not taken for the client's close.</summary>
internal static class HangUps
{
    private const string Key = "sim:hung-up";

    public static void Abort(HttpContext context)
    {
        context.Items[Key] = true;
        context.Abort();
    }

    public static bool ClosedByClient(HttpContext context) =>
        context.RequestAborted.IsCancellationRequested && !context.Items.ContainsKey(Key);
}
