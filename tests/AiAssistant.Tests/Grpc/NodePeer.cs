using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Xunit;

namespace AiAssistant.Tests.Grpc;

/// <summary>The @grpc/grpc-js peer in tests/grpc-peer: a missing node or npm install fails the tests, never skips them.</summary>
internal static class NodePeer
{
    public const string InstallHint = "run `npm install --prefix tests/grpc-peer` from the repository root";

    // Generous failure bound for a node process to start or finish; never a timing assertion.
    private static readonly TimeSpan ProcessBound = TimeSpan.FromSeconds(60);

    public static string Directory { get; } = FindPeerDirectory();

    public static Process Start(params string[] args)
    {
        if (!File.Exists(Path.Combine(Directory, "node_modules", "@grpc", "grpc-js", "package.json")))
        {
            throw new InvalidOperationException($"The gRPC test peer's packages are not installed in {Directory}: {InstallHint}.");
        }

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"`node` is not on PATH ({ex.Message}); install Node.js 20+ and {InstallHint}.", ex);
        }
    }

    /// <summary>Runs every case of client.js against a server at host:port; returns what the grpc-js client saw, by case.</summary>
    public static async Task<IReadOnlyDictionary<string, NodeCallResult>> RunClientAsync(string address)
    {
        using var process = Start("client.js", address);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync().WaitAsync(ProcessBound);
        await process.WaitForExitAsync().WaitAsync(ProcessBound);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"client.js exited with {process.ExitCode}: {await stderr}");
        }

        using var json = JsonDocument.Parse(stdout);
        return json.RootElement.EnumerateObject().ToDictionary(
            c => c.Name,
            c => new NodeCallResult(
                c.Value.GetProperty("code").GetInt32(),
                c.Value.GetProperty("details").GetString() ?? "",
                c.Value.GetProperty("reply").ValueKind == JsonValueKind.Null ? null : c.Value.GetProperty("reply").Clone()));
    }

    public static async Task<int> ReadPortAsync(Process server)
    {
        var line = await server.StandardOutput.ReadLineAsync().WaitAsync(ProcessBound);
        if (!int.TryParse(line, out var port))
        {
            var stderr = server.HasExited ? await server.StandardError.ReadToEndAsync() : "";
            throw new InvalidOperationException($"server.js printed '{line}' instead of its port. {stderr}");
        }

        return port;
    }

    private static string FindPeerDirectory([CallerFilePath] string thisFile = "")
    {
        // The tests run from an artifacts folder anywhere, so look from this source file first, then the working directory.
        foreach (var start in new[] { Path.GetDirectoryName(thisFile), System.IO.Directory.GetCurrentDirectory() })
        {
            for (var dir = start; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "AiAssistant.sln")))
                {
                    return Path.Combine(dir, "tests", "grpc-peer");
                }
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (AiAssistant.sln) to locate tests/grpc-peer.");
    }
}

public sealed record NodeCallResult(int Code, string Details, JsonElement? Reply)
{
    /// <summary>ExecuteToolReply.output_json parsed; grpc-js names fields in camelCase.</summary>
    public JsonElement Output => JsonDocument.Parse(Reply!.Value.GetProperty("outputJson").GetString()!).RootElement;
}

/// <summary>One server.js process for a test class; stopped by closing its stdin, killed if it lingers.</summary>
public sealed class NodeGrpcServer : IAsyncLifetime
{
    private Process? process;

    public string Address { get; private set; } = "";

    public async Task InitializeAsync()
    {
        process = NodePeer.Start("server.js");
        Address = $"http://127.0.0.1:{await NodePeer.ReadPortAsync(process)}";
    }

    public async Task DisposeAsync()
    {
        if (process is null)
        {
            return;
        }

        process.StandardInput.Close();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}
