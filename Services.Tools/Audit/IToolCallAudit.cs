namespace AiAssistant.Services.Tools.Audit;
public sealed record ToolCallRecord(DateTimeOffset Timestamp, string? UserId, string Surface, string Tool, string? Action,
    string? Collection, IReadOnlyList<string>? Keys, string Outcome, string? ErrorCode, double DurationMs);
public interface IToolCallAudit { void Record(ToolCallRecord record); }   // must not block the caller nor throw
