using System.Text;
using AiAssistant.AppHost.Resources;

namespace AiAssistant.AppHost.Orchestration;

/// <summary>The launcher's view of what runs where (Aspire dashboard's resource list, as text).</summary>
public static class ResourceTable
{
    public static string Format(IEnumerable<IResource> resources)
    {
        string[] header = ["NAME", "KIND", "ENDPOINT", "PID", "STATE"];
        var rows = resources.Select(r => new[]
        {
            r.Name, r.Kind, r.Endpoint, r.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
            r is ServiceResource { State: ResourceState.Failed, FailureReason: { } why } ? $"FAILED: {why}" : r.State.ToString().ToLowerInvariant(),
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header))
            text.AppendLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        return text.ToString();
    }
}
