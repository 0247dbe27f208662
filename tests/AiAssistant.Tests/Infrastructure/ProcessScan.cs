using System.Globalization;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>What /proc says about processes tied to a folder, and which TCP ports are listened on.</summary>
public static class ProcessScan
{
    /// <summary>Live processes whose command line, environment or working directory names <paramref name="folder"/>.</summary>
    public static IReadOnlyList<string> Using(string folder)
    {
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                if (cmdline.Length == 0) continue; // a zombie or a kernel thread
                var cwd = new DirectoryInfo(Path.Combine(dir, "cwd")).LinkTarget ?? "";
                var environ = File.ReadAllText(Path.Combine(dir, "environ"));
                if (cmdline.Contains(folder, StringComparison.Ordinal) || cwd.StartsWith(folder, StringComparison.Ordinal) ||
                    environ.Contains(folder, StringComparison.Ordinal))
                    found.Add($"{pid} {cmdline}");
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>A process's command line, arguments separated by spaces ("" once it is gone).</summary>
    public static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim(); }
        catch (IOException) { return ""; }
    }

    /// <summary>The live processes whose parent is <paramref name="pid"/>.</summary>
    public static IReadOnlyList<int> Children(int pid)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var child)) continue;
            try
            {
                // "pid (comm) state ppid …": the name may hold spaces and parentheses, so read after the last ')'
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == pid) children.Add(child);
            }
            catch (IOException) { }
        }
        return children;
    }

    /// <summary>The TCP ports something listens on (IPv4 and IPv6).</summary>
    public static IReadOnlySet<int> ListeningPorts()
    {
        var ports = new HashSet<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 3 && fields[3] == "0A") // LISTEN
                    ports.Add(int.Parse(fields[1][(fields[1].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return ports;
    }
}
