using System.Diagnostics;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// The content store driven through the real <c>@directus/sdk</c>: runs <c>tests/sdk/content.test.mjs</c> with Node
/// against the gateway as the admin. A missing Node or missing packages fails, so the compatibility claim is never
/// silently untested.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class DirectusSdkTests(EndToEndFixture e2e)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task The_sdk_suite_passes_against_the_gateway()
    {
        var suite = Path.Combine(RepositoryRoot(), "tests", "sdk");
        Assert.True(Directory.Exists(Path.Combine(suite, "node_modules", "@directus", "sdk")),
            $"{suite}/node_modules has no @directus/sdk: run scripts/setup.sh --tests");

        var start = new ProcessStartInfo("node", ["--test", "content.test.mjs"])
        {
            WorkingDirectory = suite,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["GATEWAY_URL"] = e2e.GatewayUrl, ["ADMIN_TOKEN"] = e2e.AdminToken },
        };
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
                Assert.Fail($"the SDK suite did not finish within {Timeout}:\n{await stdout}\n{await stderr}");
            }
            Assert.True(node.ExitCode == 0, $"the SDK suite failed (exit {node.ExitCode}):\n{await stdout}\n{await stderr}");
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
