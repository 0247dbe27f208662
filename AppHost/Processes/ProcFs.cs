using System.Globalization;

namespace AiAssistant.AppHost.Processes;

/// <summary>A process seen in /proc; the start time tells it apart from a later process that reuses its pid.</summary>
public readonly record struct ProcessId(int Pid, long StartTime);

/// <summary>Reads /proc: who is whose child, who carries an owner mark, who is alive, which ports are listened on.</summary>
public static class ProcFs
{
    /// <summary>Environment variable put on every process the launcher starts, inherited by their children.</summary>
    public const string OwnerVariable = "AIASSISTANT_OWNER";

    /// <summary>Every live (non-zombie) process.</summary>
    public static IReadOnlyList<(ProcessId Id, int ParentPid)> Processes()
    {
        var result = new List<(ProcessId, int)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (ReadStat(pid) is { } stat && stat.State != 'Z') result.Add((new ProcessId(pid, stat.StartTime), stat.ParentPid));
        }
        return result;
    }

    /// <summary>Children, grandchildren… of <paramref name="pid"/> right now.</summary>
    public static IReadOnlyList<ProcessId> Descendants(int pid)
    {
        var all = Processes();
        var found = new List<ProcessId>();
        var parents = new HashSet<int> { pid };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (id, parent) in all)
                if (parents.Contains(parent) && parents.Add(id.Pid)) { found.Add(id); grew = true; }
        }
        return found;
    }

    /// <summary>Live processes (not this one) whose owner mark matches.</summary>
    public static IReadOnlyList<ProcessId> OwnedBy(Func<string, bool> match)
    {
        var self = Environment.ProcessId;
        var result = new List<ProcessId>();
        foreach (var (id, _) in Processes())
        {
            if (id.Pid == self) continue;
            var mark = ReadOwnerMark(id.Pid);
            if (mark is null) continue;
            if (match(mark)) result.Add(id);
        }
        return result;
    }

    public static bool IsAlive(ProcessId id) => ReadStat(id.Pid) is { } s && s.State != 'Z' && s.StartTime == id.StartTime;

    public static bool IsAlive(int pid) => ReadStat(pid) is { } s && s.State != 'Z';

    public static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim(); }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    /// <summary>TCP ports (IPv4 and IPv6) with a listening socket right now.</summary>
    public static IReadOnlySet<int> ListeningPorts()
    {
        var ports = new HashSet<int>();
        foreach (var file in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (cols.Length < 4 || cols[3] != "0A") continue; // 0A = LISTEN
                var local = cols[1];
                ports.Add(int.Parse(local[(local.IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return ports;
    }

    private static string? ReadOwnerMark(int pid)
    {
        try
        {
            var prefix = OwnerVariable + "=";
            foreach (var entry in File.ReadAllText($"/proc/{pid}/environ").Split('\0'))
                if (entry.StartsWith(prefix, StringComparison.Ordinal)) return entry[prefix.Length..];
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    private readonly record struct Stat(char State, int ParentPid, long StartTime);

    private static Stat? ReadStat(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        // the command name (field 2) may hold spaces and parentheses: the fields we want follow its last ')'
        var rest = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        if (rest.Length < 20) return null;
        return new Stat(rest[0][0], int.Parse(rest[1], CultureInfo.InvariantCulture), long.Parse(rest[19], CultureInfo.InvariantCulture));
    }
}
