using System.Diagnostics;

namespace AiAssistant.AppHost.Processes;

/// <summary>
/// A process started in its own session (setsid), so a Ctrl+C in the terminal reaches only the launcher, which then
/// stops everything in order. setsid, setpriv and sh all exec, so <see cref="Pid"/> is the real program's pid.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process process;
    private readonly TaskCompletionSource<int> exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process) => this.process = process;

    public int Pid => process.Id;
    public string Owner { get; private init; } = "";
    public Task<int> Exited => exited.Task;
    public bool HasExited => exited.Task.IsCompleted;
    public int? ExitCode => exited.Task.IsCompleted ? exited.Task.Result : null;

    public static ChildProcess Start(ProcessSpec spec)
    {
        var psi = new ProcessStartInfo { UseShellExecute = false, WorkingDirectory = spec.WorkingDirectory ?? "" };
        foreach (var arg in CommandLine(spec)) psi.ArgumentList.Add(arg);
        psi.FileName = psi.ArgumentList[0];
        psi.ArgumentList.RemoveAt(0);
        ApplyEnvironment(psi, spec);

        var redirect = spec.OutputFile is null;
        psi.RedirectStandardOutput = redirect;
        psi.RedirectStandardError = redirect;
        psi.RedirectStandardInput = true; // never share the launcher's terminal input

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(process) { Owner = spec.Owner };
        // the Exited event fires when the process ends, unlike WaitForExitAsync which also waits for every
        // grandchild that inherited the output pipe to close it
        process.Exited += (_, _) => child.exited.TrySetResult(SafeExitCode(process));
        if (redirect)
        {
            var sink = spec.OnOutput ?? (_ => { });
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) sink(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) sink(e.Data); };
        }
        process.Start();
        process.StandardInput.Close();
        if (redirect)
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
        return child;
    }

    /// <summary>Sends a signal to the process (not its group: PostgreSQL and Erlang children use their own).</summary>
    public bool Signal(int signal) => !HasExited && Posix.Signal(Pid, signal);

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (HasExited) return true;
        var done = await Task.WhenAny(exited.Task, Task.Delay(timeout)).ConfigureAwait(false);
        return done == exited.Task;
    }

    /// <summary>Asks with <paramref name="signal"/>, waits <paramref name="grace"/>, then kills it and whatever carries its mark.</summary>
    public async Task StopAsync(int signal, TimeSpan grace)
    {
        if (Signal(signal)) await WaitForExitAsync(grace).ConfigureAwait(false);
        if (!HasExited) Kill();
        await WaitForExitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await ProcessSweeper.KillOwnedAsync(Owner, TimeSpan.FromSeconds(3)).ConfigureAwait(false);
    }

    public void Kill()
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { } // already gone
        catch (System.ComponentModel.Win32Exception) { }
    }

    public void Dispose() => process.Dispose();

    private static IEnumerable<string> CommandLine(ProcessSpec spec)
    {
        if (File.Exists("/usr/bin/setsid")) yield return "/usr/bin/setsid";
        if (spec.RunAsUser is { } user && Posix.IsRoot)
        {
            yield return "setpriv";
            yield return $"--reuid={user}";
            yield return $"--regid={user}";
            yield return "--init-groups";
        }
        if (spec.OutputFile is { } file)
        {
            // the shell opens the file as the (possibly switched) user, then becomes the program
            yield return "/bin/sh";
            yield return "-c";
            yield return "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1";
            yield return "sh";
            yield return file;
        }
        yield return spec.FileName;
        foreach (var arg in spec.Arguments) yield return arg;
    }

    private static void ApplyEnvironment(ProcessStartInfo psi, ProcessSpec spec)
    {
        foreach (var name in psi.Environment.Keys.ToList())
            if (spec.RemoveInherited.Any(r => r.EndsWith('*')
                    ? name.StartsWith(r[..^1], StringComparison.OrdinalIgnoreCase) // .NET configuration keys ignore case
                    : name.Equals(r, StringComparison.OrdinalIgnoreCase)))
                psi.Environment.Remove(name);
        foreach (var (name, value) in spec.Environment)
        {
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        }
        psi.Environment[ProcFs.OwnerVariable] = spec.Owner;
    }

    private static int SafeExitCode(Process process)
    {
        try { return process.ExitCode; }
        catch (InvalidOperationException) { return -1; }
    }
}
