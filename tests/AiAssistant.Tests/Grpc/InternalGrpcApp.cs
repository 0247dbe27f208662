using System.Text.Json;
using AiAssistant.Contracts.Access;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Grpc;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;
using AccessService = AiAssistant.Contracts.Access.Access;
using ToolsService = AiAssistant.Contracts.Tools.Tools;

namespace AiAssistant.Tests.Grpc;

/// <summary>
/// A Kestrel h2c server in this process, wired as Settings and Tools wire theirs (<c>AddInternalGrpc()</c>, the
/// HTTP/2-only <c>grpc</c> endpoint, grpc.health.v1), serving test implementations of Tools and Access.
/// </summary>
public sealed class InternalGrpcApp : IAsyncLifetime
{
    public const string Token = "test-service-credential";
    public const string Secret = "sk-secret-1234567890";
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(2);

    private WebApplication? _app;

    public string Address { get; private set; } = "";

    /// <summary>What the server's one health check reports.</summary>
    public volatile bool Healthy = true;

    /// <summary>Completed when a "hang" call saw its cancellation token fire on the server.</summary>
    public TaskCompletionSource ServerSawCancellation { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.Sources.Clear(); // nothing from the test machine's environment
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:grpc:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:grpc:Protocols"] = "Http2",
            ["Internal:Token"] = Token,
        });
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.Services.AddHealthChecks().AddCheck("self", () => Healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy());
        builder.Services.AddSingleton<BearerTokens>();
        builder.Services.AddSingleton(this);
        builder.AddInternalGrpc();
        _app = builder.Build();
        _app.MapGrpcService<TestTools>();
        _app.MapGrpcService<TestAccess>();
        _app.MapGrpcHealthChecksService();
        await _app.StartAsync();
        Address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
    }

    /// <summary>The client side as Chat, Tools and Gateway register it, pointed at <paramref name="address"/> (this server by default).</summary>
    public IHost Clients(string? address = null, string token = Token)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:tools:grpc:0"] = address ?? Address,
            ["services:settings:grpc:0"] = address ?? Address,
            ["Internal:Token"] = token,
        });
        builder.Services.AddInternalGrpcClient<ToolsService.ToolsClient>("tools", DefaultDeadline);
        builder.Services.AddInternalGrpcClient<AccessService.AccessClient>("settings", GrpcAccessDirectory.Deadline);
        builder.Services.AddSingleton<GrpcAccessDirectory>();
        return builder.Build();
    }

    public async Task DisposeAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>
    /// By tool name: "hang" waits on its token; "deny", "missing", "invalid" answer that status; "throw" throws a plain
    /// exception holding a secret; anything else echoes the caller, the authorization metadata and the deadline.
    /// </summary>
    private sealed class TestTools(InternalGrpcApp app) : ToolsService.ToolsBase
    {
        public override Task<ListToolsReply> ListTools(ListToolsRequest request, ServerCallContext context) =>
            Task.FromResult(new ListToolsReply { Tools = { new ToolDefinition { Name = "schema", InputSchemaJson = "{}" } } });

        public override async Task<ExecuteToolReply> ExecuteTool(ExecuteToolRequest request, ServerCallContext context)
        {
            switch (request.Name)
            {
                case "hang":
                    try
                    {
                        await Task.Delay(Timeout.Infinite, context.CancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        app.ServerSawCancellation.TrySetResult();
                        throw;
                    }
                    break;
                case "deny": throw new RpcException(new Status(StatusCode.PermissionDenied, "Not yours."));
                case "missing": throw new RpcException(new Status(StatusCode.NotFound, "No such thing."));
                case "invalid": throw new RpcException(new Status(StatusCode.InvalidArgument, "Bad input."));
                case "throw": throw new InvalidOperationException($"provider rejected key {Secret}");
            }
            return new ExecuteToolReply
            {
                OutputJson = JsonSerializer.Serialize(new
                {
                    userId = request.Caller?.UserId,
                    admin = request.Caller?.Admin,
                    authorization = context.RequestHeaders.GetValue("authorization"),
                    deadlineInMs = (context.Deadline - DateTime.UtcNow).TotalMilliseconds,
                }),
            };
        }
    }

    /// <summary>user_id "denied", "missing", "invalid" answer that status; any other user is found; no key is InvalidArgument.</summary>
    private sealed class TestAccess : AccessService.AccessBase
    {
        public override Task<ResolveCallerReply> ResolveCaller(ResolveCallerRequest request, ServerCallContext context) => request.UserId switch
        {
            _ when request.KeyCase == ResolveCallerRequest.KeyOneofCase.None =>
                throw new RpcException(new Status(StatusCode.InvalidArgument, "Send user_id or static_token_sha256.")),
            "denied" => throw new RpcException(new Status(StatusCode.PermissionDenied, "No.")),
            "missing" => throw new RpcException(new Status(StatusCode.NotFound, "No.")),
            "invalid" => throw new RpcException(new Status(StatusCode.InvalidArgument, "No.")),
            var id => Task.FromResult(GrpcAccessDirectory.Reply(new UserAccess(id, "role-1", false, true, "active"))),
        };
    }
}
