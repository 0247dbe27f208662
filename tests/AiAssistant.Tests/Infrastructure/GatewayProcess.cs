using System.Diagnostics;
using System.Net;
using Xunit;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>
/// The built gateway (artifacts/bin/Gateway/{config}/Gateway.dll, as the AppHost runs it) started as a process of its
/// own on a free port with the given environment, for tests that need a gateway configured otherwise than the app's.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process process;

    private GatewayProcess(Process process, string url)
    {
        this.process = process;
        Url = url;
    }

    public string Url { get; }

    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet", Built("Gateway")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.Environment["Kestrel__Endpoints__http__Url"] = url;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var gateway = new GatewayProcess(process, url);
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var up = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await http.GetAsync("/alive")).IsSuccessStatusCode) return gateway;
            }
            catch (HttpRequestException) when (up.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch
            {
                await gateway.DisposeAsync();
                throw;
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A service's built assembly, next to the tests' build: artifacts/bin/{project}/{config}/{assembly}.dll.</summary>
    public static string Built(string project, string? assembly = null)
    {
        var testBuild = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var path = Path.Combine(testBuild.Parent!.Parent!.FullName, project, testBuild.Name, (assembly ?? project) + ".dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
