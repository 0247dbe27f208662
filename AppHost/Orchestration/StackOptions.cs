using AiAssistant.AppHost.Resources;

namespace AiAssistant.AppHost.Orchestration;

public sealed record StackOptions
{
    /// <summary>Servers' data, ports and the generated secrets. Default: {repo}/.data, or a temporary folder
    /// (deleted on stop) when <see cref="UseServers"/> is given.</summary>
    public string? DataFolder { get; init; }

    public int ChatReplicas { get; init; } = 2;

    /// <summary>The gateway's port; 0 picks a free one.</summary>
    public int GatewayPort { get; init; } = 8080;

    /// <summary>Where the services were built; default: see <see cref="Hosting.BuildLayout.Detect"/>.</summary>
    public string? ArtifactsPath { get; init; }

    /// <summary>"debug" or "release"; default: the configuration the launcher was built with.</summary>
    public string? Configuration { get; init; }

    /// <summary>Servers started by someone else (the tests' fixture): used as they are, never stopped by the stack.</summary>
    public ServerSet? UseServers { get; init; }

    /// <summary>Options of the servers the stack starts itself.</summary>
    public ServerOptions ServerOptions { get; init; } = new();

    /// <summary>Appended to the database names (settings_x, chat_x, content_x), so stacks sharing one PostgreSQL stay apart.</summary>
    public string? DatabaseSuffix { get; init; }

    /// <summary>Where the pass-through variables (ADMIN_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, AI_ENABLED,
    /// OTEL_EXPORTER_OTLP_ENDPOINT) are read from; default: the launcher's environment.</summary>
    public IReadOnlyDictionary<string, string>? HostEnvironment { get; init; }

    /// <summary>Set on every service after the launcher's own keys (a null value removes a key).</summary>
    public IReadOnlyDictionary<string, string?> ExtraEnvironment { get; init; } = new Dictionary<string, string?>();

    /// <summary>Last word on one service's environment (e.g. a provider URL for chat only).</summary>
    public Action<ServiceResource, IDictionary<string, string?>>? ConfigureEnvironment { get; init; }

    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>SIGTERM to SIGKILL delay when stopping a service.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Status messages ("postgres running…"); default: none. The launcher prints them.</summary>
    public Action<string>? Status { get; init; }
}
