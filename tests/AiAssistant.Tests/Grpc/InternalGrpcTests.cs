using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.Services.Chat.ToolLoop;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using ToolsService = AiAssistant.Contracts.Tools.Tools;

namespace AiAssistant.Tests.Grpc;

/// <summary>Internal gRPC as the services wire it: the service credential, deadlines, status mapping, retries, health.</summary>
public sealed class InternalGrpcTests(InternalGrpcApp server) : IClassFixture<InternalGrpcApp>
{
    private static readonly Caller User = new() { UserId = "u-1", RoleId = "r-1", Admin = true };

    [Fact]
    public async Task The_client_sends_the_service_credential_and_a_deadline_and_the_server_takes_them()
    {
        using var clients = server.Clients();

        var reply = await Tools(clients).ExecuteToolAsync(new ExecuteToolRequest { Name = "echo", Caller = User });

        var echo = JsonDocument.Parse(reply.OutputJson).RootElement;
        Assert.Equal("u-1", echo.GetProperty("userId").GetString());
        Assert.True(echo.GetProperty("admin").GetBoolean());
        Assert.Equal($"Bearer {InternalGrpcApp.Token}", echo.GetProperty("authorization").GetString());
        var deadline = echo.GetProperty("deadlineInMs").GetDouble();
        Assert.InRange(deadline, 1, InternalGrpcApp.DefaultDeadline.TotalMilliseconds);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer a-user-token")]
    [InlineData("Bearer " + InternalGrpcApp.Token + "x")]
    public async Task Every_method_refuses_a_call_without_the_service_credential(string? authorization)
    {
        using var channel = GrpcChannel.ForAddress(server.Address);
        var tools = new ToolsService.ToolsClient(channel);
        var headers = authorization is null ? null : new Metadata { { "authorization", authorization } };
        var deadline = DateTime.UtcNow.AddSeconds(10);

        var execute = await Assert.ThrowsAsync<RpcException>(() =>
            tools.ExecuteToolAsync(new ExecuteToolRequest { Name = "echo", Caller = User }, headers, deadline).ResponseAsync);
        var list = await Assert.ThrowsAsync<RpcException>(() => tools.ListToolsAsync(new ListToolsRequest(), headers, deadline).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, execute.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, list.StatusCode);
        Assert.Contains("internal services only", execute.Status.Detail);
    }

    [Fact]
    public async Task A_client_with_another_credential_is_refused()
    {
        using var clients = server.Clients(token: "not-the-credential");

        var ex = await Assert.ThrowsAsync<RpcException>(() => Tools(clients).ListToolsAsync(new ListToolsRequest()).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
    }

    [Fact]
    public async Task Health_answers_from_the_health_checks_without_the_credential()
    {
        using var channel = GrpcChannel.ForAddress(server.Address);
        var health = new Health.HealthClient(channel);
        Task<HealthCheckResponse> Check() => health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync;

        var serving = await Check();
        server.Healthy = false;
        try
        {
            var notServing = await Check();

            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, serving.Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, notServing.Status);
        }
        finally
        {
            server.Healthy = true;
        }
    }

    [Fact]
    public async Task The_default_deadline_ends_a_call_that_set_none_and_cancels_it_on_the_server()
    {
        using var clients = server.Clients();
        var started = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Tools(clients).ExecuteToolAsync(new ExecuteToolRequest { Name = "hang" }).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.InRange(started.Elapsed, InternalGrpcApp.DefaultDeadline * 0.9, InternalGrpcApp.DefaultDeadline * 4);
        await server.ServerSawCancellation.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_deadline_set_by_the_caller_wins_over_the_default()
    {
        using var clients = server.Clients();
        var started = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Tools(clients)
            .ExecuteToolAsync(new ExecuteToolRequest { Name = "hang" }, deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.True(started.Elapsed < InternalGrpcApp.DefaultDeadline, $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Cancelling_the_callers_token_throws_OperationCanceledException()
    {
        using var clients = server.Clients();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Tools(clients).ExecuteToolAsync(new ExecuteToolRequest { Name = "hang" }, cancellationToken: cts.Token).ResponseAsync);
    }

    [Fact]
    public async Task A_handler_exception_reaches_the_caller_without_its_message()
    {
        using var clients = server.Clients();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Tools(clients).ExecuteToolAsync(new ExecuteToolRequest { Name = "throw" }).ResponseAsync);

        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.DoesNotContain(InternalGrpcApp.Secret, ex.ToString());
    }

    [Theory]
    [InlineData("deny")]
    [InlineData("missing")]
    [InlineData("invalid")]
    [InlineData("hang")] // past the deadline
    public async Task Chat_turns_a_failed_tool_call_into_a_recoverable_tool_error(string tool)
    {
        using var clients = server.Clients();
        var executor = new ToolExecutor(Tools(clients), NullLogger<ToolExecutor>.Instance);

        var (output, isError, _) = await executor.ExecuteAsync(tool, "{}", "call_1", User, new ToolScope(), null, CancellationToken.None);

        Assert.True(isError);
        var error = JsonDocument.Parse(output).RootElement.GetProperty("error");
        Assert.Equal("SERVICE_UNAVAILABLE", error.GetProperty("code").GetString());
        Assert.True(error.GetProperty("recoverable").GetBoolean());
    }

    [Fact]
    public async Task Chat_returns_the_tools_answer_as_it_came()
    {
        using var clients = server.Clients();
        var executor = new ToolExecutor(Tools(clients), NullLogger<ToolExecutor>.Instance);

        var (output, isError, _) = await executor.ExecuteAsync("echo", "{}", "call_1", User, new ToolScope(), null, CancellationToken.None);

        Assert.False(isError);
        Assert.Equal("u-1", JsonDocument.Parse(output).RootElement.GetProperty("userId").GetString());
    }

    [Fact]
    public async Task The_access_directory_reads_a_user_from_Settings()
    {
        using var clients = server.Clients();

        var user = await clients.Services.GetRequiredService<GrpcAccessDirectory>().FindUserAsync("u-7", CancellationToken.None);

        Assert.NotNull(user);
        Assert.Equal("u-7", user.Id);
        Assert.Equal("role-1", user.Role);
        Assert.True(user.App);
    }

    [Theory]
    [InlineData("denied")]
    [InlineData("missing")]
    [InlineData("invalid")]
    public async Task The_access_directory_answers_503_in_the_envelope_when_Settings_refuses(string userId)
    {
        using var clients = server.Clients();

        var ex = await Assert.ThrowsAsync<DirectusException>(() =>
            clients.Services.GetRequiredService<GrpcAccessDirectory>().FindUserAsync(userId, CancellationToken.None));

        Assert.Equal(503, ex.Status);
        Assert.Equal(ErrorCodes.ServiceUnavailable, ex.Code);
    }

    [Fact]
    public async Task The_access_directory_answers_503_when_Settings_cannot_be_reached()
    {
        using var clients = server.Clients($"http://127.0.0.1:{UnusedPort()}");

        var ex = await Assert.ThrowsAsync<DirectusException>(() =>
            clients.Services.GetRequiredService<GrpcAccessDirectory>().FindUserAsync("u-1", CancellationToken.None));

        Assert.Equal(503, ex.Status);
        Assert.Contains("Unavailable", ex.Message);
    }

    [Fact]
    public async Task The_access_directory_answers_503_when_the_address_is_not_configured()
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["Internal:Token"] = InternalGrpcApp.Token;
        builder.Services.AddInternalGrpcClient<AiAssistant.Contracts.Access.Access.AccessClient>("settings", GrpcAccessDirectory.Deadline);
        builder.Services.AddSingleton<GrpcAccessDirectory>();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<DirectusException>(() =>
            host.Services.GetRequiredService<GrpcAccessDirectory>().FindUserAsync("u-1", CancellationToken.None));

        Assert.Equal(503, ex.Status);
        Assert.Contains("services:settings:grpc:0", ex.Message);
    }

    [Fact]
    public async Task A_peer_that_drops_the_connection_is_retried_then_Unavailable()
    {
        // Accepts and closes every connection: each attempt of the call is one accepted connection.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = 0;
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var socket = await listener.AcceptSocketAsync(stop.Token);
                Interlocked.Increment(ref accepted);
            }
        });
        using var clients = server.Clients($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Tools(clients).ListToolsAsync(new ListToolsRequest(), deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);

        await stop.CancelAsync();
        await accepting.ContinueWith(_ => { });
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.True(accepted >= 2, $"{accepted} connection(s): the call was not retried");
    }

    private static ToolsService.ToolsClient Tools(IHost clients) => clients.Services.GetRequiredService<ToolsService.ToolsClient>();

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
