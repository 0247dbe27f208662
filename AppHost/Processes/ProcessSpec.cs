namespace AiAssistant.AppHost.Processes;

/// <summary>What to run, as whom, with which environment, and where its output goes.</summary>
public sealed record ProcessSpec(string FileName, IReadOnlyList<string> Arguments)
{
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set on top of the inherited environment; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>Inherited variables to drop: exact names, or prefixes ending in '*'.</summary>
    public IReadOnlyList<string> RemoveInherited { get; init; } = [];

    /// <summary>Owner mark (see <see cref="ProcFs.OwnerVariable"/>): finds the process and all it spawned, even re-parented ones.</summary>
    public required string Owner { get; init; }

    /// <summary>Run as this user when we are root (PostgreSQL refuses to run as root).</summary>
    public string? RunAsUser { get; init; }

    /// <summary>The process appends stdout and stderr itself to this file, so a server keeps logging if we die.</summary>
    public string? OutputFile { get; init; }

    /// <summary>Otherwise every output line (stdout and stderr) goes here.</summary>
    public Action<string>? OnOutput { get; init; }
}
