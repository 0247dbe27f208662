using AiAssistant.AppHost.Orchestration;
using AiAssistant.AppHost.Resources;

namespace AiAssistant.AppHost.Hosting;

/// <summary>The launcher's console: every line prefixed with its resource's name, coloured on a terminal.</summary>
public sealed class ConsoleOutput
{
    private static readonly ConsoleColor[] Palette =
        [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Yellow, ConsoleColor.Magenta, ConsoleColor.Blue, ConsoleColor.DarkCyan,
         ConsoleColor.DarkGreen, ConsoleColor.DarkYellow, ConsoleColor.DarkMagenta];

    private readonly object gate = new();
    private readonly Dictionary<string, ConsoleColor> colours = [];
    private readonly bool colour = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    /// <summary>Prints the stack's log lines; servers' only with <paramref name="serverLogs"/> (they are in files anyway).</summary>
    public void Follow(LogStore logs, IEnumerable<IResource> servers, bool serverLogs)
    {
        var serverNames = servers.Select(s => s.Name).ToHashSet();
        logs.LineAdded += line =>
        {
            if (serverLogs || !serverNames.Contains(line.Resource)) Write(line.Resource, line.Text, null);
        };
    }

    public void Status(string message) => Write("apphost", message, null);

    /// <summary>Something went wrong: red, with a marker that stands out in the stream.</summary>
    public void Loud(string message)
    {
        foreach (var line in message.Split('\n')) Write("apphost", "!!! " + line, ConsoleColor.Red);
    }

    public void Plain(string text)
    {
        lock (gate) Console.Out.Write(text.EndsWith('\n') ? text : text + "\n");
    }

    private void Write(string resource, string text, ConsoleColor? force)
    {
        lock (gate)
        {
            if (!colour)
            {
                Console.Out.WriteLine($"[{resource}] {text}");
                return;
            }
            if (!colours.TryGetValue(resource, out var c)) colours[resource] = c = Palette[colours.Count % Palette.Length];
            Console.ForegroundColor = force ?? c;
            Console.Out.Write($"[{resource}] ");
            if (force is null) Console.ResetColor();
            Console.Out.WriteLine(text);
            Console.ResetColor();
        }
    }
}
