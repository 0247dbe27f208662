using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiAssistant.ProviderSimulator;

/// <summary>
/// An OpenAI-compatible LLM provider on 127.0.0.1 that answers from a script and records what it hears.
/// In tests: <c>await using var sim = await SimulatorServer.StartAsync();</c>; as a process: <c>ProviderSimulator --urls http://127.0.0.1:18080</c>.
/// </summary>
public sealed class SimulatorServer : IAsyncDisposable
{
    /// <summary>The reply when the script is empty: forty words.</summary>
    public const string FixedReplyText =
        "This is a fixed reply from the provider simulator. It stands in for a real language model so that tests " +
        "and benchmarks can exercise streaming, tool calls and usage accounting without a network, a key or any cost at all.";

    private readonly WebApplication app;
    private readonly ProviderScript script;

    private SimulatorServer(WebApplication app, ProviderScript script)
    {
        this.app = app;
        this.script = script;
        Origin = new Uri(ListeningAddress(app));
    }

    /// <summary>Where the simulator listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Origin { get; }

    public int Port => Origin.Port;

    /// <summary>The base URL an OpenAI client is configured with, e.g. <c>http://127.0.0.1:41234/v1</c>.</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}/v1";

    /// <summary>Pacing of replies that do not bring their own; <see cref="Pacing.None"/> by default.</summary>
    public Pacing DefaultPacing
    {
        get => script.DefaultPacing;
        set => script.DefaultPacing = value;
    }

    /// <summary>The text answered when no scripted reply is queued; <see cref="FixedReplyText"/> by default.</summary>
    public string DefaultText
    {
        get => script.DefaultText;
        set => script.DefaultText = value;
    }

    /// <summary>When set, provider requests without <c>Authorization: Bearer {key}</c> get OpenAI's 401 and consume no reply.</summary>
    /// <summary>See <see cref="ProviderScript.DefaultToolCalls"/>: with the script empty, every turn makes one tool round trip.</summary>
    public SimulatedReply? DefaultToolCalls
    {
        get => script.DefaultToolCalls;
        set => script.DefaultToolCalls = value;
    }

    public string? RequiredApiKey
    {
        get => script.RequiredApiKey;
        set => script.RequiredApiKey = value;
    }

    /// <summary>What <c>GET /v1/models</c> lists.</summary>
    public IReadOnlyList<string> Models
    {
        get => script.Models;
        set => script.Models = value;
    }

    /// <summary>How many requests are kept (the oldest are dropped first); 10 000 by default, 0 records none.</summary>
    public int RequestLimit
    {
        get => script.Log.Limit;
        set => script.Log.Limit = value;
    }

    public int PendingReplies => script.PendingReplies;

    /// <summary>A snapshot of the provider requests received (not the /_sim ones), oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests => script.Log.Snapshot();

    /// <summary>Starts a simulator on 127.0.0.1; port 0 picks a free port (see <see cref="Port"/>).</summary>
    public static async Task<SimulatorServer> StartAsync(int port = 0, CancellationToken cancellationToken = default)
    {
        var script = new ProviderScript();
        var app = Build(port, script, logToConsole: false);
        await app.StartAsync(cancellationToken);
        return new SimulatorServer(app, script);
    }

    /// <summary>Runs the simulator as a process until it is stopped (Ctrl+C, SIGTERM). Options: README.md.</summary>
    public static async Task RunAsync(string[] args)
    {
        var options = new ConfigurationBuilder().AddCommandLine(args).Build();
        var script = new ProviderScript
        {
            DefaultPacing = Pacing.FromMilliseconds(
                options.GetValue<double>("ttft-ms"), options.GetValue<double>("between-tokens-ms")),
        };
        if (options.GetValue<int?>("request-limit") is { } limit)
        {
            script.Log.Limit = limit;
        }

        await using var app = Build(StandalonePort(options), script, logToConsole: true);
        await app.StartAsync();
        Console.WriteLine($"Provider simulator listening on {ListeningAddress(app)}v1");
        await app.WaitForShutdownAsync();
    }

    public void Enqueue(params SimulatedReply[] replies) => script.Enqueue(replies);

    /// <summary>The files the simulated file APIs took, by the id (Gemini: the URI) they answered.</summary>
    public IReadOnlyDictionary<string, Wire.SimulatedFile> Uploads => script.Files.Uploads;

    public void ClearReplies() => script.ClearReplies();

    public void ClearRequests() => script.Log.Clear();

    /// <summary>Waits until at least <paramref name="count"/> provider requests are recorded (10 s by default) and returns them.</summary>
    /// <exception cref="TimeoutException">Fewer arrived in time.</exception>
    public async Task<IReadOnlyList<RecordedRequest>> WaitForRequestsAsync(
        int count, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var requests = script.Log.Snapshot();
            if (requests.Length >= count)
            {
                return requests;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The provider simulator received {requests.Length} of {count} expected requests.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static WebApplication Build(int port, ProviderScript script, bool logToConsole)
    {
        // the empty builder: no configuration files to watch, no per-request logging, nothing but Kestrel
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SimulatorServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (logToConsole)
        {
            builder.Logging.AddSimpleConsole();
        }

        var app = builder.Build();
        app.Run(new SimulatorRoutes(script).DispatchAsync);
        return app;
    }

    private static string ListeningAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/";

    /// <summary>The port of <c>--port</c> or of the first <c>--urls</c> entry; the simulator listens on 127.0.0.1 whatever host is named.</summary>
    private static int StandalonePort(IConfiguration options)
    {
        if (options.GetValue<int?>("port") is { } port)
        {
            return port;
        }

        string url = (options["urls"] ?? "http://127.0.0.1:18080").Split(';')[0].TrimEnd('/');
        if (!url.Contains("://127.0.0.1:", StringComparison.Ordinal) && !url.Contains("://localhost:", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"Provider simulator: listening on 127.0.0.1 only, not on the host of {url}.");
        }

        return int.Parse(url[(url.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
