using System.Diagnostics;

namespace AiAssistant.ServiceDefaults.Telemetry;

/// <summary>Our own activity source; services start spans for work the framework does not see (outbox, tool calls).</summary>
public static class AiAssistantActivity
{
    public const string SourceName = "AiAssistant";
    public static readonly ActivitySource Source = new(SourceName);
}
