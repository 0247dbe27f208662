namespace AiAssistant.Contracts;

/// <summary>Published after every committed settings change. Never carries a value, only names.</summary>
public sealed record AiSettingsChanged(long Version, IReadOnlyList<string> Fields, DateTimeOffset ChangedAt);
