using System.Collections.Concurrent;
using System.Text.Json;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace AiAssistant.Tests.Grpc;

/// <summary>An in-process ASP.NET Core app on a free loopback port, HTTP/2 only (h2c), configured the way services are.</summary>
internal sealed class GrpcTestServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private GrpcTestServer(WebApplication app, string address, CapturedLogs logs)
    {
        this.app = app;
        Address = address;
        Logs = logs;
    }

    /// <summary>http://127.0.0.1:port</summary>
    public string Address { get; }

    public CapturedLogs Logs { get; }

    public static async Task<GrpcTestServer> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.Sources.Clear(); // no appsettings or environment variables from the test machine
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:grpc:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:grpc:Protocols"] = "Http2",
        });
        var logs = new CapturedLogs();
        builder.Logging.ClearProviders().AddProvider(logs);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Single();
        return new GrpcTestServer(app, address, logs);
    }

    public static GrpcUnaryClient CreateClient(string address) =>
        new(new HttpClient(GrpcUnaryClient.CreateHandler()) { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan });

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>
/// A C# implementation of aiassistant.tools.v1.Tools/ExecuteTool (ListTools deliberately unmapped), by tool name:
/// "deny" → PermissionDenied with a non-ASCII, multi-line message; "throw" → a plain exception holding a secret;
/// "hang" → waits on its cancellation token; "ignore-token" → waits for <see cref="ReleaseIgnoringHandler"/>;
/// anything else echoes the request, the authorization metadata and whether a deadline arrived.
/// </summary>
public sealed class CSharpToolsServer : IAsyncLifetime
{
    public const string Service = "aiassistant.tools.v1.Tools";
    public const string DenyMessage = "Keine Berechtigung für „articles“ ✓\nZeile 2 100%";
    public const string Secret = "sk-secret-1234567890";

    private GrpcTestServer? server;
    private TaskCompletionSource ignoringHandler = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Address => server!.Address;

    /// <summary>host:port, as grpc-js wants it.</summary>
    public string NodeAddress => new Uri(Address).Authority;

    internal CapturedLogs Logs => server!.Logs;

    public void ReleaseIgnoringHandler()
    {
        ignoringHandler.TrySetResult();
        ignoringHandler = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task InitializeAsync() => server = await GrpcTestServer.StartAsync(app =>
    {
        app.MapGrpcUnary<ExecuteToolRequest, ExecuteToolReply>(Service, "ExecuteTool", ExecuteToolAsync);
        app.MapGrpcFallback();
    });

    public async Task DisposeAsync()
    {
        ignoringHandler.TrySetResult();
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    private async Task<ExecuteToolReply> ExecuteToolAsync(ExecuteToolRequest request, GrpcCallContext context)
    {
        switch (request.Name)
        {
            case "deny":
                throw new GrpcException(GrpcStatusCode.PermissionDenied, DenyMessage);
            case "throw":
                throw new InvalidOperationException($"provider rejected key {Secret}");
            case "hang":
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
                break;
            case "ignore-token":
                await ignoringHandler.Task;
                break;
        }

        return new ExecuteToolReply
        {
            OutputJson = JsonSerializer.Serialize(new
            {
                name = request.Name,
                inputJson = request.InputJson,
                userId = request.Caller?.UserId,
                admin = request.Caller?.Admin,
                authorization = context.RequestHeaders.Authorization.ToString(),
                hasDeadline = context.Deadline is not null,
            }),
        };
    }
}

/// <summary>Keeps every log entry so tests can check what was (and was not) logged.</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> entries = new();

    public IReadOnlyCollection<(LogLevel Level, string Message, Exception? Exception)> Entries => entries;

    public ILogger CreateLogger(string categoryName) => new Logger(entries);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<(LogLevel, string, Exception?)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((logLevel, formatter(state, exception), exception));
    }
}
