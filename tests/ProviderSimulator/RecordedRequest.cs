namespace AiAssistant.ProviderSimulator;

/// <summary>A request the simulated provider received. <see cref="Headers"/> is case-insensitive; repeated headers are joined with ",".</summary>
public sealed record RecordedRequest(
    DateTimeOffset Time,
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    string Body);

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
