using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.ToolLoop;

/// <summary>
/// The tokens of a whole turn (every step added up) from the provider's own figures, as the reference's
/// <c>data-usage</c> frame carries them: <c>inputTokens</c> (cached ones included), <c>outputTokens</c>,
/// <c>totalTokens</c>, <c>cacheReadTokens</c>, and <c>cacheCreationTokens</c> when the provider reports it (Anthropic).
/// </summary>
public sealed class TurnUsage
{
    /// <summary>The <see cref="UsageDetails.AdditionalCounts"/> key for tokens written to the provider's prompt cache.</summary>
    public const string CacheCreationKey = "CacheCreationInputTokens";

    public long InputTokens { get; private set; }
    public long OutputTokens { get; private set; }
    public long TotalTokens { get; private set; }
    public long CacheReadTokens { get; private set; }
    public long? CacheCreationTokens { get; private set; }

    public void Add(UsageDetails usage)
    {
        var input = usage.InputTokenCount ?? 0;
        var output = usage.OutputTokenCount ?? 0;
        InputTokens += input;
        OutputTokens += output;
        TotalTokens += usage.TotalTokenCount ?? input + output;
        CacheReadTokens += usage.CachedInputTokenCount ?? 0;
        if (usage.AdditionalCounts?.TryGetValue(CacheCreationKey, out var created) == true)
            CacheCreationTokens = (CacheCreationTokens ?? 0) + created;
    }

    /// <summary>The frame's <c>data</c> object.</summary>
    public void WriteData(Utf8JsonWriter w)
    {
        w.WriteStartObject("data");
        w.WriteNumber("inputTokens", InputTokens);
        w.WriteNumber("outputTokens", OutputTokens);
        w.WriteNumber("totalTokens", TotalTokens);
        w.WriteNumber("cacheReadTokens", CacheReadTokens);
        if (CacheCreationTokens is { } created) w.WriteNumber("cacheCreationTokens", created);
        w.WriteEndObject();
    }

    /// <summary>A step's finish reason as the AI SDK names it in the <c>finish</c> chunk.</summary>
    public static string FinishReason(ChatFinishReason? reason) => reason switch
    {
        null => "stop",
        var r when r == ChatFinishReason.Stop => "stop",
        var r when r == ChatFinishReason.ToolCalls => "tool-calls",
        var r when r == ChatFinishReason.Length => "length",
        var r when r == ChatFinishReason.ContentFilter => "content-filter",
        { Value: "error" } => "error",
        _ => "other",
    };
}
