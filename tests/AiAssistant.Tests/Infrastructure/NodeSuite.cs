using System.Diagnostics;
using Xunit;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>
/// Runs a Node test suite of this repository (<c>tests/&lt;folder&gt;</c>, <c>node --test</c>) — how the real clients
/// (<c>@directus/sdk</c>, the <c>ai</c> package, the MCP SDK) are driven against the stack. A missing Node or missing
/// packages fails with what to run, so a compatibility claim is never silently untested.
/// </summary>
public static class NodeSuite
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static Task RunAsync(string folder, string file, string requiredPackage, IReadOnlyDictionary<string, string> environment) =>
        RunAsync(Path.Combine("tests", folder), ["--test", file], requiredPackage, environment);

    /// <summary>Runs <c>node <paramref name="arguments"/></c> in <paramref name="directory"/> (relative to the repository's root).</summary>
    public static async Task RunAsync(string directory, string[] arguments, string requiredPackage, IReadOnlyDictionary<string, string> environment)
    {
        var suite = Path.Combine(RepositoryRoot(), directory);
        var command = $"{directory}: node {string.Join(' ', arguments)}";
        Assert.True(Directory.Exists(Path.Combine(suite, "node_modules", requiredPackage)),
            $"{suite}/node_modules has no {requiredPackage}: run scripts/setup.sh --tests");

        var start = new ProcessStartInfo("node", arguments)
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
                Assert.Fail($"{command} did not finish within {Timeout}:\n{await stdout}\n{await stderr}");
            }
            Assert.True(node.ExitCode == 0, $"{command} failed (exit {node.ExitCode}):\n{await stdout}\n{await stderr}");
        }
    }

    /// <summary>The folder holding AiAssistant.sln, above the test assembly (artifacts/bin/… in this repository).</summary>
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "AiAssistant.sln"))) return folder.FullName;
        throw new InvalidOperationException($"no AiAssistant.sln above {AppContext.BaseDirectory}");
    }
}
