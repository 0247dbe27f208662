namespace AiAssistant.Services.Tools.Flows;

/// <summary>The <c>Flows</c> configuration section; every value has a default a deployment rarely changes.</summary>
public sealed class FlowOptions
{
    public const string Section = "Flows";

    public ScheduleOptions Schedule { get; set; } = new();

    public ExecOptions Exec { get; set; } = new();

    /// <summary>
    /// The names of the environment variables a run's <c>$env</c> shows, comma separated (Directus's
    /// <c>FLOWS_ENV_ALLOW_LIST</c>); no other variable is visible to a flow. Their values are not kept in run records.
    /// </summary>
    public string EnvAllowList { get; set; } = "";

    public IEnumerable<string> EnvNames => EnvAllowList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary><c>Flows:Schedule</c>: how often a replica looks for due ticks and how late a tick may still run.</summary>
public sealed class ScheduleOptions
{
    /// <summary>The longest a replica waits before it looks again (a new or changed schedule is seen within this).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A tick no replica saw within this long after its time is skipped, not run late (after a restart, say).</summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary><c>Flows:Exec</c>: the limits of an <c>exec</c> operation's script (Directus's FLOWS_RUN_SCRIPT_TIMEOUT and _MAX_MEMORY).</summary>
public sealed class ExecOptions
{
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most a script may allocate (bytes, garbage included: Jint counts the thread's allocations).</summary>
    public long MaxMemoryBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>The deepest its calls may nest (a runaway recursion stops here, not in a stack overflow of the service).</summary>
    public int MaxCallDepth { get; set; } = 256;
}
