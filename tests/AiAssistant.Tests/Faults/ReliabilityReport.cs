using System.Runtime.CompilerServices;
using System.Text;

namespace AiAssistant.Tests.Faults;

/// <summary>
/// Each fault's figures, written to <c>docs/reliability.md</c> by the run: one row per fault, replaced by the next
/// run of that fault, so the page always shows the latest figures and the command that produced them.
/// </summary>
internal static class ReliabilityReport
{
    private const string TableStart = "<!-- fault rows: written by tests/AiAssistant.Tests/Faults, one per fault -->";
    private static readonly Lock Gate = new();

    public static void Record(string fault, IReadOnlyList<LoadRun.Outcome> outcomes, TimeSpan? recovered, string notes)
    {
        var failed = outcomes.Count(o => !o.Ok);
        var row = $"| {fault} | {outcomes.Count} | {failed} | {(recovered is { } r ? $"{r.TotalSeconds:F1} s" : "—")} | {notes} | {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC |";
        lock (Gate)
        {
            var path = PagePath();
            var lines = File.ReadAllLines(path).ToList();
            var start = lines.IndexOf(TableStart);
            if (start < 0) throw new InvalidOperationException($"{path} has no line {TableStart}");
            var existing = lines.FindIndex(start, l => l.StartsWith($"| {fault} |", StringComparison.Ordinal));
            if (existing >= 0) lines[existing] = row;
            else
            {
                var end = start + 1;
                while (end < lines.Count && lines[end].StartsWith('|')) end++;
                lines.Insert(end, row);
            }
            File.WriteAllText(path, string.Join('\n', lines) + "\n", new UTF8Encoding(false));
        }
    }

    private static string PagePath([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "../../../docs/reliability.md"));
}
