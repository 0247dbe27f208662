namespace AiAssistant.Services.Chat.Chat;

/// <summary>
/// The assistant's instructions when Settings → AI has no custom system prompt (a custom one replaces it). The text is
/// <c>system-prompt.md</c> next to this file, embedded in the assembly; the web app shows the same file as the default.
/// </summary>
public static class SystemPrompt
{
    public static readonly string Default = Read();

    private static string Read()
    {
        using var stream = typeof(SystemPrompt).Assembly.GetManifestResourceStream("system-prompt.md")
            ?? throw new InvalidOperationException("The embedded resource system-prompt.md is missing from Services.Chat");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().TrimEnd('\n');
    }
}
