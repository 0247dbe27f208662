using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace AiAssistant.Tests.AppHost;

/// <summary>The AppHost as ./run.sh runs it: a real process that prints its two URLs, then stops on SIGTERM leaving nothing.</summary>
public sealed class AppHostProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task It_prints_the_dashboard_and_gateway_and_a_sigterm_leaves_nothing_running()
    {
        var data = TestFolders.Create("apphost");
        var (gatewayPort, dashboardPort) = (FreePort(), FreePort(3));
        var lines = new List<string>();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { BuiltAppHost(), "--port", $"{gatewayPort}", "--dashboard-port", $"{dashboardPort}", "--data", data, "--chat-replicas", "1" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var inherited in new[] { "ADMIN_TOKEN", "ASPNETCORE_URLS", "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL" })
            start.Environment.Remove(inherited);
        using var appHost = Process.Start(start)!;
        appHost.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (lines) lines.Add(l); };
        appHost.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (lines) lines.Add(l); };
        appHost.BeginOutputReadLine();
        appHost.BeginErrorReadLine();
        var descendants = new HashSet<int>();
        try
        {
            var gatewayLine = $"Gateway: http://127.0.0.1:{gatewayPort}";
            var up = Stopwatch.StartNew();
            while (!Printed(lines, gatewayLine) && !appHost.HasExited && up.Elapsed < TimeSpan.FromMinutes(4))
            {
                descendants.UnionWith(Descendants(appHost.Id));
                await Task.Delay(250);
            }
            descendants.UnionWith(Descendants(appHost.Id));
            output.WriteLine($"up after {up.Elapsed.TotalSeconds:F1} s");
            Assert.True(Printed(lines, gatewayLine), "no gateway line:\n" + Tail(lines));
            Assert.True(Printed(lines, $"Dashboard: http://127.0.0.1:{dashboardPort}"), Tail(lines));

            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{gatewayPort}/health")).StatusCode);
            // No login on 127.0.0.1: the dashboard's page is served, not a redirect to /login.
            using (var dashboard = await http.GetAsync($"http://127.0.0.1:{dashboardPort}/"))
            {
                Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
                Assert.DoesNotContain("/login", dashboard.RequestMessage!.RequestUri!.AbsolutePath, StringComparison.Ordinal);
            }
            // No ADMIN_TOKEN was given: one was generated, shown, kept in the data folder, and it opens the admin's routes.
            string shown;
            lock (lines) shown = lines.Single(l => l.StartsWith("Admin token (generated", StringComparison.Ordinal));
            var token = shown[(shown.LastIndexOf(' ') + 1)..];
            Assert.Equal(token, File.ReadAllText(Path.Combine(data, "secrets", "admin.token")).Trim());
            using var read = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{gatewayPort}/settings");
            read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(read)).StatusCode);
            Assert.True(descendants.Count > 5, $"a running app has its servers, services and DCP below it: {descendants.Count}");

            Assert.True(Posix.Kill(appHost.Id, Posix.SigTerm) == 0);
            using (var exit = new CancellationTokenSource(TimeSpan.FromMinutes(1))) await appHost.WaitForExitAsync(exit.Token);

            // DCP finishes its clean-up a few seconds after the AppHost has gone.
            var left = new List<string>();
            var gone = Stopwatch.StartNew();
            do
            {
                left = descendants.Where(IsAlive).Select(p => $"{p} {CommandLine(p)}")
                    .Concat(ProcessScan.Using(data))
                    .Concat(ProcessScan.ListeningPorts().Intersect([gatewayPort, dashboardPort, dashboardPort + 1, dashboardPort + 2]).Select(p => $"port {p}"))
                    .Distinct().ToList();
                if (left.Count == 0) break;
                await Task.Delay(500);
            }
            while (gone.Elapsed < TimeSpan.FromSeconds(60));
            output.WriteLine($"everything gone {gone.Elapsed.TotalSeconds:F1} s after the AppHost exited ({descendants.Count} processes watched)");
            Assert.True(left.Count == 0, "left behind:\n" + string.Join("\n", left));
        }
        finally
        {
            if (!appHost.HasExited) appHost.Kill(entireProcessTree: true);
            foreach (var pid in descendants.Where(IsAlive)) try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
            TestFolders.Delete(data);
        }
    }

    private static bool Printed(List<string> lines, string line) { lock (lines) return lines.Contains(line); }

    private static string Tail(List<string> lines) { lock (lines) return string.Join("\n", lines.TakeLast(40)); }

    private static string BuiltAppHost()
    {
        var testBuild = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var path = Path.Combine(testBuild.Parent!.Parent!.FullName, "AppHost", testBuild.Name, "AppHost.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first");
        return path;
    }

    /// <summary>A free port (and the <paramref name="count"/> - 1 after it, for the dashboard's OTLP and resource ports).</summary>
    private static int FreePort(int count = 1)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (port + count < 65535 && Enumerable.Range(port + 1, count - 1).All(p => !ProcessScan.ListeningPorts().Contains(p))) return port;
        }
    }

    /// <summary>
    /// The AppHost's processes: its children, and DCP's (DCP starts detached, watching the AppHost with
    /// <c>--monitor {pid}</c>, and runs every resource below it).
    /// </summary>
    private static IEnumerable<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        var roots = new HashSet<int> { root };
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
                    if (CommandLine(pid) is var cmd && cmd.Contains("dcp", StringComparison.Ordinal) && cmd.Contains($"--monitor {root}", StringComparison.Ordinal))
                        roots.Add(pid);
                }
                catch (IOException) { }
        var found = new HashSet<int>();
        var added = true;
        while (added)
        {
            added = false;
            foreach (var (pid, parent) in parents)
                if ((roots.Contains(parent) || found.Contains(parent) || (roots.Contains(pid) && pid != root)) && found.Add(pid)) added = true;
        }
        return found;
    }

    private static bool IsAlive(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    private static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim(); }
        catch (IOException) { return ""; }
    }

    private static class Posix
    {
        public const int SigTerm = 15;
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
