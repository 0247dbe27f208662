namespace AiAssistant.AppHost.Orchestration;

public readonly record struct LogLine(DateTimeOffset Time, string Resource, string Text)
{
    public override string ToString() => $"[{Resource}] {Text}";
}

/// <summary>Every log line of every resource, in arrival order, kept for searching (tests look for leaked secrets).</summary>
public sealed class LogStore(int maxLines = 500_000)
{
    private readonly object gate = new();
    private readonly List<LogLine> lines = [];

    /// <summary>Raised for each new line (on the thread that read it).</summary>
    public event Action<LogLine>? LineAdded;

    public void Append(string resource, string text)
    {
        var line = new LogLine(DateTimeOffset.UtcNow, resource, text);
        lock (gate)
        {
            if (lines.Count >= maxLines) lines.RemoveRange(0, maxLines / 10); // a long run keeps the newest
            lines.Add(line);
        }
        LineAdded?.Invoke(line);
    }

    public IReadOnlyList<LogLine> All()
    {
        lock (gate) return lines.ToList();
    }

    /// <summary>Lines of one resource ("chat-1"), or of a service's every replica ("chat").</summary>
    public IReadOnlyList<string> Lines(string resource)
    {
        lock (gate) return lines.Where(l => Matches(l, resource)).Select(l => l.Text).ToList();
    }

    public IReadOnlyList<string> Tail(string resource, int count)
    {
        var all = Lines(resource);
        return all.Skip(Math.Max(0, all.Count - count)).ToList();
    }

    /// <summary>Every line, of any resource, containing <paramref name="text"/>.</summary>
    public IReadOnlyList<LogLine> Find(string text, StringComparison comparison = StringComparison.Ordinal)
    {
        lock (gate) return lines.Where(l => l.Text.Contains(text, comparison)).ToList();
    }

    private static bool Matches(LogLine line, string resource) =>
        line.Resource == resource || line.Resource.StartsWith(resource + "-", StringComparison.Ordinal);
}
