using System.Text.RegularExpressions;
using AiAssistant.AppHost.Hosting;
using AiAssistant.AppHost.Processes;
using AiAssistant.AppHost.Resources;
using AiAssistant.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace AiAssistant.Tests.Launcher;

/// <summary>The launcher as users run it: a real process, stopped with SIGINT, that must leave nothing behind.</summary>
public sealed partial class LauncherProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sigint_stops_every_process_it_started_and_leaves_none_behind()
    {
        var layout = BuildLayout.Detect(); // this test build's artifacts folder and configuration
        var appHost = layout.AssemblyOf("AppHost", "AppHost");
        Assert.True(File.Exists(appHost), $"{appHost} is missing: the test project builds AppHost into the same artifacts folder");
        var data = TestFolders.Create("launcher");
        var gatewayPort = FreePorts.Take();
        using var launcher = new LauncherProcess(appHost,
            ["--port", $"{gatewayPort}", "--data", data, "--chat-replicas", "1", "--artifacts", layout.ArtifactsPath,
             "--health-timeout", "30"], output);
        try
        {
            var gatewayUp = await launcher.WaitForGatewayOrExitAsync(TimeSpan.FromMinutes(3));
            var ports = PortsIn(data).Append(gatewayPort).Concat(PortsIn(launcher.Output)).ToHashSet();
            Assert.True(gatewayUp, string.Join("\n", launcher.Output));
            Assert.Equal($"Gateway: http://127.0.0.1:{gatewayPort}", launcher.Output.Last(l => l.StartsWith("Gateway: ", StringComparison.Ordinal)));
            using (var http = new HttpClient())
            {
                Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{gatewayPort}/health")).StatusCode);
                // No ADMIN_TOKEN was given: the launcher generated one, showed it, and it opens the admin's routes.
                var shown = launcher.Output.Single(l => l.StartsWith("Admin token (generated", StringComparison.Ordinal));
                var token = shown[(shown.LastIndexOf(' ') + 1)..];
                Assert.Equal(token, File.ReadAllText(Path.Combine(data, "secrets", "admin.token")).Trim());
                using var read = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{gatewayPort}/settings");
                read.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
                Assert.Equal(System.Net.HttpStatusCode.OK, (await http.SendAsync(read)).StatusCode);
            }
            Assert.True(Posix.Signal(launcher.Pid, Posix.SigInt));
            var exitCode = await launcher.WaitForExitAsync(TimeSpan.FromMinutes(1));

            Assert.True(launcher.Descendants.Count > 0, "a running stack has child processes");
            Assert.Equal(0, exitCode);
            await AssertNothingLeftAsync(launcher, data, ports);
        }
        finally
        {
            await ProcessSweeper.KillAsync(mark => mark.StartsWith(data, StringComparison.Ordinal), TimeSpan.FromSeconds(2));
            TestFolders.Delete(data);
        }
    }

    [Fact]
    public async Task A_missing_service_build_fails_before_any_server_starts()
    {
        var layout = BuildLayout.Detect();
        var data = TestFolders.Create("launcher-unbuilt");
        var empty = TestFolders.Create("artifacts-empty");
        try
        {
            using var launcher = new LauncherProcess(layout.AssemblyOf("AppHost", "AppHost"),
                ["--port", "0", "--data", data, "--artifacts", empty], output);
            var exitCode = await launcher.WaitForExitAsync(TimeSpan.FromMinutes(1));

            Assert.Equal(1, exitCode);
            Assert.Contains(launcher.Output, l => l.Contains("Not built: ", StringComparison.Ordinal) && l.Contains(empty, StringComparison.Ordinal));
            Assert.Empty(launcher.Descendants);
        }
        finally
        {
            TestFolders.Delete(data);
            TestFolders.Delete(empty);
        }
    }

    private async Task AssertNothingLeftAsync(LauncherProcess launcher, string data, IReadOnlySet<int> ports)
    {
        // a process may take a moment to be reaped after its parent exited; give it 2 s before calling it a leak
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        List<string> leaks;
        do
        {
            leaks = launcher.Descendants.Where(ProcFs.IsAlive).Select(p => $"descendant {p.Pid} {ProcFs.CommandLine(p.Pid)}")
                .Concat(ProcFs.OwnedBy(mark => mark.StartsWith(data, StringComparison.Ordinal))
                    .Select(p => $"owned {p.Pid} {ProcFs.CommandLine(p.Pid)}"))
                .Concat(ProcFs.ListeningPorts().Intersect(ports).Select(p => $"port {p} still listened on"))
                .Distinct().ToList();
            if (leaks.Count == 0) break;
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        output.WriteLine($"watched {launcher.Descendants.Count} descendants and ports {string.Join(", ", ports.Order())}");
        Assert.True(leaks.Count == 0, "left behind:\n" + string.Join("\n", leaks));
    }

    private static IEnumerable<int> PortsIn(string dataFolder) =>
        Directory.EnumerateFiles(dataFolder, PortFile.FileName, SearchOption.AllDirectories)
            .SelectMany(f => System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(f))!.Values);

    private static IEnumerable<int> PortsIn(IEnumerable<string> lines) =>
        lines.SelectMany(l => UrlPort().Matches(l)).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex(@"http://127\.0\.0\.1:(\d+)")]
    private static partial Regex UrlPort();
}
