using System.Diagnostics;
using System.Text.Json;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Grpc;
using Xunit;

namespace AiAssistant.Tests.Grpc;

/// <summary>GrpcUnaryClient (C#) → server.js (@grpc/grpc-js).</summary>
public sealed class GrpcClientAgainstNodeTests(NodeGrpcServer node) : IClassFixture<NodeGrpcServer>
{
    private const string Service = "aiassistant.tools.v1.Tools";

    // Failure bound only, so a broken call fails instead of hanging.
    private static readonly GrpcCallOptions Bounded = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly GrpcUnaryClient client = GrpcTestServer.CreateClient(node.Address);

    [Fact]
    public async Task ExecuteTool_round_trips_every_field()
    {
        var request = new ExecuteToolRequest
        {
            Caller = new Caller { UserId = "user-7", RoleId = "editor", Admin = true, App = true },
            Name = "echo",
            InputJson = """{"q":"grüße"}""",
        };

        var reply = await client.CallAsync(Service, "ExecuteTool", request, ExecuteToolReply.Parser, Bounded);

        Assert.False(reply.IsError);
        var output = JsonDocument.Parse(reply.OutputJson).RootElement;
        Assert.Equal("echo", output.GetProperty("name").GetString());
        Assert.Equal("""{"q":"grüße"}""", output.GetProperty("inputJson").GetString());
        var caller = output.GetProperty("caller");
        Assert.Equal("user-7", caller.GetProperty("userId").GetString());
        Assert.Equal("editor", caller.GetProperty("roleId").GetString());
        Assert.True(caller.GetProperty("admin").GetBoolean());
        Assert.True(caller.GetProperty("app").GetBoolean());
    }

    [Fact]
    public async Task ListTools_round_trips_repeated_fields()
    {
        var request = new ListToolsRequest { Caller = new Caller { UserId = "u" }, Names = { "read-items", "create-item" } };

        var reply = await client.CallAsync(Service, "ListTools", request, ListToolsReply.Parser, Bounded);

        Assert.Equal(["read-items", "create-item"], reply.Tools.Select(t => t.Name));
        Assert.All(reply.Tools, t => Assert.True(t.ReadOnly));
        Assert.Equal("tool create-item", reply.Tools[1].Description);
    }

    [Fact]
    public async Task Status_and_non_ascii_multi_line_message_map_to_GrpcException()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() =>
            client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = "fail-permission" }, ExecuteToolReply.Parser, Bounded));

        Assert.Equal(GrpcStatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal("Zugriff verweigert für „articles“ ✓\nzweite Zeile 100%", ex.Detail);
    }

    [Fact]
    public async Task Deadline_before_the_server_answers_is_DeadlineExceeded()
    {
        // server.js answers "slow" after 5 s; the call's deadline is far shorter.
        var options = new GrpcCallOptions { Timeout = TimeSpan.FromMilliseconds(300) };

        var ex = await Assert.ThrowsAsync<GrpcException>(() =>
            client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = "slow" }, ExecuteToolReply.Parser, options));

        Assert.Equal(GrpcStatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task Metadata_reaches_the_server()
    {
        var options = new GrpcCallOptions
        {
            Timeout = TimeSpan.FromSeconds(30),
            Headers = new Dictionary<string, string> { ["authorization"] = "Bearer token-from-csharp" },
        };

        var reply = await client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = "echo" }, ExecuteToolReply.Parser, options);

        Assert.Equal("Bearer token-from-csharp", JsonDocument.Parse(reply.OutputJson).RootElement.GetProperty("authorization").GetString());
    }

    [Fact]
    public async Task Trace_context_of_the_current_activity_reaches_the_server()
    {
        using var activity = new Activity("grpc-test").SetIdFormat(ActivityIdFormat.W3C).Start();

        var reply = await client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = "echo" }, ExecuteToolReply.Parser, Bounded);

        var traceparent = JsonDocument.Parse(reply.OutputJson).RootElement.GetProperty("traceparent").GetString();
        Assert.Contains(activity.TraceId.ToHexString(), traceparent);
    }

    [Fact]
    public async Task Unknown_method_is_Unimplemented()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() =>
            client.CallAsync(Service, "NoSuchMethod", new ExecuteToolRequest(), ExecuteToolReply.Parser, Bounded));

        Assert.Equal(GrpcStatusCode.Unimplemented, ex.StatusCode);
    }
}
