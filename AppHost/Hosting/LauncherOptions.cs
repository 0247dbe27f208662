using System.Globalization;
using AiAssistant.AppHost.Orchestration;
using AiAssistant.AppHost.Resources;

namespace AiAssistant.AppHost.Hosting;

/// <summary>The launcher's command line.</summary>
public sealed record LauncherOptions
{
    public const string Usage = """
        Usage: dotnet AppHost.dll [options]
          --port <n>             gateway port on 127.0.0.1 (default 8080; 0 = a free one)
          --chat-replicas <n>    Chat service replicas (default 2)
          --data <dir>           servers' data, ports and secrets (default <repo>/.data)
          --artifacts <dir>      where the services were built (default: the launcher's own artifacts folder,
                                 $AIASSISTANT_ARTIFACTS, or <repo>/artifacts)
          --configuration <c>    debug or release (default: the launcher's own)
          --health-timeout <s>   seconds a service has to answer GET /health with 200 (default 60)
          --server-logs          also print the servers' log lines (always in <data>/<server>/log.txt)
        Ctrl+C stops everything in order; a second Ctrl+C kills it at once.
        """;

    public int Port { get; init; } = 8080;
    public int ChatReplicas { get; init; } = 2;
    public string? DataFolder { get; init; }
    public string? ArtifactsPath { get; init; }
    public string? Configuration { get; init; }
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public bool ServerLogs { get; init; }
    public bool Help { get; init; }

    /// <exception cref="ArgumentException">an unknown option or a bad value</exception>
    public static LauncherOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LauncherOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Number(int min) => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                ? n : throw new ArgumentException($"{args[i - 1]} needs a whole number >= {min}, not '{args[i]}'");
            options = args[i] switch
            {
                "--port" => options with { Port = Number(0) },
                "--chat-replicas" => options with { ChatReplicas = Number(1) },
                "--data" => options with { DataFolder = Path.GetFullPath(Value()) },
                "--artifacts" => options with { ArtifactsPath = Path.GetFullPath(Value()) },
                "--configuration" or "-c" => options with { Configuration = Value().ToLowerInvariant() },
                "--health-timeout" => options with { HealthTimeout = TimeSpan.FromSeconds(Number(1)) },
                "--server-logs" => options with { ServerLogs = true },
                "--help" or "-h" or "-?" => options with { Help = true },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'"),
            };
        }
        return options;
    }

    public StackOptions ToStackOptions(Action<string> status) => new()
    {
        DataFolder = DataFolder,
        ArtifactsPath = ArtifactsPath,
        Configuration = Configuration,
        ChatReplicas = ChatReplicas,
        GatewayPort = Port,
        HealthTimeout = HealthTimeout,
        ServerOptions = new ServerOptions(),
        Status = status,
    };
}
