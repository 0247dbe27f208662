using Xunit;

namespace AiAssistant.Tests.Grpc;

/// <summary>client.js (@grpc/grpc-js) → MapGrpcUnary on Kestrel (C#). Codes are grpc-js's numbers.</summary>
public sealed class GrpcServerAgainstNodeTests(NodeClientRun run) : IClassFixture<NodeClientRun>
{
    [Fact]
    public void Success_round_trips_the_message_and_metadata()
    {
        var result = run.Result("ok");

        Assert.Equal(0, result.Code);
        var output = result.Output;
        Assert.Equal("echo", output.GetProperty("name").GetString());
        Assert.Equal("""{"q":"grüße"}""", output.GetProperty("inputJson").GetString());
        Assert.Equal("user-1", output.GetProperty("userId").GetString());
        Assert.Equal("Bearer node-token", output.GetProperty("authorization").GetString());
        Assert.True(output.GetProperty("hasDeadline").GetBoolean());
    }

    [Fact]
    public void GrpcException_reaches_node_with_its_code_and_exact_message()
    {
        var result = run.Result("permission");

        Assert.Equal(7, result.Code); // PERMISSION_DENIED
        Assert.Equal(CSharpToolsServer.DenyMessage, result.Details);
    }

    [Fact]
    public void Plain_exception_is_Internal_without_its_message_and_is_logged()
    {
        var result = run.Result("secret");

        Assert.Equal(13, result.Code); // INTERNAL
        Assert.DoesNotContain("sk-secret", result.Details);
        Assert.Equal("Internal error", result.Details);
        // Logged with its type and stack, never its message (which could carry a secret).
        Assert.Contains(run.Server.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error
            && e.Message.Contains(nameof(InvalidOperationException)));
        Assert.DoesNotContain(run.Server.Logs.Entries, e => e.Message.Contains("sk-secret") || e.Exception is not null);
    }

    [Fact]
    public void Deadline_set_by_node_is_DeadlineExceeded()
    {
        var result = run.Result("deadline");

        Assert.Equal(4, result.Code); // DEADLINE_EXCEEDED
    }

    [Theory]
    [InlineData("unimplemented")]   // ListTools: in the contract, not mapped
    [InlineData("unknown-service")] // a service nobody maps
    public void Unmapped_method_is_Unimplemented(string testCase)
    {
        var result = run.Result(testCase);

        Assert.Equal(12, result.Code); // UNIMPLEMENTED
    }
}

/// <summary>One node process runs every client.js case concurrently against one C# server: node starts slowly.</summary>
public sealed class NodeClientRun : IAsyncLifetime
{
    private IReadOnlyDictionary<string, NodeCallResult> results = new Dictionary<string, NodeCallResult>();

    public CSharpToolsServer Server { get; } = new();

    public NodeCallResult Result(string testCase) => results[testCase];

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        results = await NodePeer.RunClientAsync(Server.NodeAddress);
    }

    public Task DisposeAsync() => Server.DisposeAsync();
}
