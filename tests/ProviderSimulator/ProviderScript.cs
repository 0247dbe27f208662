using System.Collections.Concurrent;

namespace AiAssistant.ProviderSimulator;

/// <summary>What the simulated provider will answer and what it has heard: shared by the in-process API and the /_sim control API.</summary>
internal sealed class ProviderScript
{
    private readonly ConcurrentQueue<SimulatedReply> replies = new();
    private volatile SimulatedReply fixedReply = SimulatedReply.Text(SimulatorServer.FixedReplyText);
    /// <summary>The providers' file APIs and the files they took.</summary>
    public Wire.FileEndpoints Files { get; } = new();

    private volatile Pacing defaultPacing = Pacing.None;
    private volatile string? requiredApiKey;
    private volatile IReadOnlyList<string> models = ["gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-4o-mini"];

    public RequestLog Log { get; } = new();

    public Pacing DefaultPacing
    {
        get => defaultPacing;
        set => defaultPacing = value ?? throw new ArgumentNullException(nameof(value));
    }

    public string DefaultText
    {
        get => fixedReply.Content;
        set => fixedReply = SimulatedReply.Text(value ?? throw new ArgumentNullException(nameof(value)));
    }

    public string? RequiredApiKey
    {
        get => requiredApiKey;
        set => requiredApiKey = value;
    }

    public IReadOnlyList<string> Models
    {
        get => models;
        set => models = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// When set and the script is empty: a request whose last message is not a tool result gets these tool calls, one
    /// whose last message is a tool result gets the fixed text — a model that always makes one tool round trip, at any
    /// concurrency (benchmarks).
    /// </summary>
    public SimulatedReply? DefaultToolCalls { get; set; }

    public int PendingReplies => replies.Count;

    public void Enqueue(IEnumerable<SimulatedReply> scripted)
    {
        foreach (var reply in scripted)
        {
            replies.Enqueue(reply ?? throw new ArgumentNullException(nameof(scripted), "A scripted reply is null."));
        }
    }

    public void ClearReplies() => replies.Clear();

    /// <summary>The next scripted reply, or, when the script has run out, the default tool calls or the fixed text.</summary>
    public SimulatedReply Next(string? lastRole = null) =>
        replies.TryDequeue(out var reply) ? reply : DefaultToolCalls is { } calls && lastRole != "tool" ? calls : fixedReply;
}
