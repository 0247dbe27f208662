namespace AiAssistant.AppHost.Processes;

/// <summary>Ends every process carrying an owner mark: what a server spawned and left behind, or a previous run's orphans.</summary>
public static class ProcessSweeper
{
    /// <summary>Processes marked exactly <paramref name="owner"/>, or also <c>owner#…</c> with <paramref name="withSubOwners"/>.</summary>
    public static Task KillOwnedAsync(string owner, TimeSpan grace, bool withSubOwners = false) =>
        KillAsync(Match(owner, withSubOwners), grace);

    /// <summary>SIGTERM, up to <paramref name="grace"/> to exit, then SIGKILL.</summary>
    public static async Task KillAsync(Func<string, bool> ownerMatch, TimeSpan grace)
    {
        var left = ProcFs.OwnedBy(ownerMatch);
        if (left.Count == 0) return;
        foreach (var p in left) Posix.Signal(p.Pid, Posix.SigTerm);
        var deadline = DateTime.UtcNow + grace;
        while (DateTime.UtcNow < deadline && left.Any(ProcFs.IsAlive))
            await Task.Delay(50).ConfigureAwait(false);
        foreach (var p in ProcFs.OwnedBy(ownerMatch)) Posix.Signal(p.Pid, Posix.SigKill);
    }

    /// <summary>Immediate SIGKILL (the second Ctrl+C).</summary>
    public static void KillOwned(string owner, bool withSubOwners = false)
    {
        foreach (var p in ProcFs.OwnedBy(Match(owner, withSubOwners))) Posix.Signal(p.Pid, Posix.SigKill);
    }

    private static Func<string, bool> Match(string owner, bool withSubOwners) => withSubOwners
        ? mark => mark == owner || mark.StartsWith(owner + "#", StringComparison.Ordinal)
        : mark => mark == owner;
}
