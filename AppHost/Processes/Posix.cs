using System.Runtime.InteropServices;

namespace AiAssistant.AppHost.Processes;

/// <summary>The few libc calls .NET does not expose: signals other than SIGKILL, and who we run as.</summary>
public static class Posix
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint SysGetEuid();

    [DllImport("libc", EntryPoint = "signal")]
    private static extern nint SysSignal(int signal, nint handler);

    /// <summary>
    /// Restores the default action of a signal our parent told us to ignore: shells start background jobs with
    /// SIGINT ignored, and .NET then never delivers it to a PosixSignalRegistration.
    /// </summary>
    public static void Unignore(int signal)
    {
        const nint SigIgn = 1, SigDfl = 0;
        var previous = SysSignal(signal, SigDfl);
        if (previous != SigIgn) SysSignal(signal, previous); // it was not ignored: leave it as it was
    }

    /// <summary>Sends a signal; false when the process is already gone.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && SysKill(pid, signal) == 0;

    public static bool IsRoot { get; } = SysGetEuid() == 0;
}
