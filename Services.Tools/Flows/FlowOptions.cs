namespace AiAssistant.Services.Tools.Flows;

/// <summary>The <c>Flows</c> configuration section; every value has a default a deployment rarely changes.</summary>
public sealed class FlowOptions
{
    public const string Section = "Flows";

    public ScheduleOptions Schedule { get; set; } = new();
}

/// <summary><c>Flows:Schedule</c>: how often a replica looks for due ticks and how late a tick may still run.</summary>
public sealed class ScheduleOptions
{
    /// <summary>The longest a replica waits before it looks again (a new or changed schedule is seen within this).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A tick no replica saw within this long after its time is skipped, not run late (after a restart, say).</summary>
    public TimeSpan Grace { get; set; } = TimeSpan.FromSeconds(5);
}
