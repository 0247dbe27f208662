using System.Diagnostics;
using AiAssistant.AppHost.Processes;
using Xunit.Abstractions;

namespace AiAssistant.Tests.Launcher;

/// <summary>Runs <c>dotnet AppHost.dll …</c>, collects its output and, every 100 ms, the pids of all its descendants.</summary>
internal sealed class LauncherProcess : IDisposable
{
    private readonly Process process;
    private readonly List<string> lines = [];
    private readonly HashSet<ProcessId> descendants = [];
    private readonly TaskCompletionSource gateway = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource watching = new();

    public LauncherProcess(string appHostDll, IReadOnlyList<string> arguments, ITestOutputHelper output)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(appHostDll);
        foreach (var arg in arguments) psi.ArgumentList.Add(arg);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment.Remove("ADMIN_TOKEN"); // the launcher generates one and must show it
        process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (lines) lines.Add(line);
            try { output.WriteLine(line); } catch (InvalidOperationException) { } // the test already ended
            if (line.StartsWith("Gateway: ", StringComparison.Ordinal)) gateway.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => exited.TrySetResult(process.ExitCode);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = Task.Run(WatchDescendantsAsync);
    }

    public int Pid => process.Id;

    public IReadOnlyList<string> Output
    {
        get { lock (lines) return lines.ToList(); }
    }

    /// <summary>Every process seen below the launcher while it ran.</summary>
    public IReadOnlyCollection<ProcessId> Descendants
    {
        get { lock (descendants) return descendants.ToList(); }
    }

    /// <summary>True once "Gateway: …" is printed; false when the launcher exits first.</summary>
    public async Task<bool> WaitForGatewayOrExitAsync(TimeSpan timeout)
    {
        var done = await Task.WhenAny(gateway.Task, exited.Task, Task.Delay(timeout));
        if (done == gateway.Task) return true;
        if (done == exited.Task) return false;
        throw new TimeoutException($"The launcher neither printed the gateway URL nor exited within {timeout}.");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        if (await Task.WhenAny(exited.Task, Task.Delay(timeout)) != exited.Task)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The launcher did not exit within {timeout}; killed.");
        }
        await watching.CancelAsync();
        process.WaitForExit(); // drains the output
        return exited.Task.Result;
    }

    public void Dispose()
    {
        watching.Cancel();
        if (!exited.Task.IsCompleted) process.Kill(entireProcessTree: true);
        process.Dispose();
        watching.Dispose();
    }

    private async Task WatchDescendantsAsync()
    {
        while (!watching.IsCancellationRequested && !exited.Task.IsCompleted)
        {
            var now = ProcFs.Descendants(process.Id);
            lock (descendants) descendants.UnionWith(now);
            try { await Task.Delay(100, watching.Token); }
            catch (OperationCanceledException) { }
        }
    }
}
