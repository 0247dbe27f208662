using System.Text;
using System.Text.RegularExpressions;

namespace AiAssistant.AppHost.Resources;

/// <summary>Follows a server's log file from its current end, line by line (servers write their logs themselves).</summary>
public sealed partial class LogTail : IAsyncDisposable
{
    private readonly string path;
    private readonly Action<string> onLine;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private long offset;
    private string partial = "";

    private LogTail(string path, Action<string> onLine)
    {
        this.path = path;
        this.onLine = onLine;
        offset = File.Exists(path) ? new FileInfo(path).Length : 0;
        loop = Task.Run(LoopAsync);
    }

    public static LogTail Follow(string path, Action<string> onLine) => new(path, onLine);

    /// <summary>The last lines of a log file, for error messages.</summary>
    public static IReadOnlyList<string> LastLines(string path, int count)
    {
        if (!File.Exists(path)) return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Max(0, stream.Length - 64 * 1024), SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var lines = reader.ReadToEnd().Split('\n').Select(Clean).Where(l => l.Length > 0).ToList();
        return lines.Skip(Math.Max(0, lines.Count - count)).ToList();
    }

    /// <summary>Drops terminal colour codes (RabbitMQ colours its console log).</summary>
    public static string Clean(string line) => Ansi().Replace(line, "").TrimEnd('\r');

    private async Task LoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            ReadNew();
            try { await Task.Delay(200, stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
        ReadNew();
        if (partial.Length > 0) onLine(Clean(partial));
    }

    private void ReadNew()
    {
        try
        {
            if (!File.Exists(path)) return;
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length < offset) offset = 0; // truncated or replaced
            if (stream.Length == offset) return;
            stream.Seek(offset, SeekOrigin.Begin);
            var buffer = new byte[stream.Length - offset];
            stream.ReadExactly(buffer);
            offset += buffer.Length;
            var text = partial + Encoding.UTF8.GetString(buffer);
            var lines = text.Split('\n');
            partial = lines[^1];
            foreach (var line in lines[..^1]) onLine(Clean(line));
        }
        catch (IOException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        stop.Dispose();
    }

    [GeneratedRegex(@"\x1B\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();
}
