using System.Diagnostics;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// Runs a Node test file of <c>tests/&lt;folder&gt;</c> (<c>node --test</c>) with the given environment and fails
/// with its output unless it passes. A missing Node or missing packages fails too, so a compatibility claim is never
/// silently untested.
/// </summary>
public static class NodeSuite
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static async Task RunAsync(string folder, string file, string package, IReadOnlyDictionary<string, string> environment)
    {
        var suite = Path.Combine(RepositoryRoot(), "tests", folder);
        Assert.True(Directory.Exists(Path.Combine(suite, "node_modules", package)),
            $"{suite}/node_modules has no {package}: run scripts/setup.sh --tests");

        var start = new ProcessStartInfo("node", ["--test", file])
        {
            WorkingDirectory = suite,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        Process node;
        try
        {
            node = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"node could not be started ({e.Message}): run scripts/setup.sh --tests");
            return;
        }
        using (node)
        {
            var stdout = node.StandardOutput.ReadToEndAsync();
            var stderr = node.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await node.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                node.Kill(entireProcessTree: true);
                await node.WaitForExitAsync();
                Assert.Fail($"tests/{folder}/{file} did not finish within {Timeout}:\n{await stdout}\n{await stderr}");
            }
            Assert.True(node.ExitCode == 0, $"tests/{folder}/{file} failed (exit {node.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }

    /// <summary>The folder holding AiAssistant.sln, above the test assembly (artifacts/bin/… in this repository).</summary>
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "AiAssistant.sln"))) return folder.FullName;
        throw new InvalidOperationException($"no AiAssistant.sln above {AppContext.BaseDirectory}");
    }
}
