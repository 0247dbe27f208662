using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Grpc;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace AiAssistant.Tests.Grpc;

/// <summary>GrpcUnaryClient → MapGrpcUnary, plus raw HTTP/2 requests for what a well-behaved client never sends.</summary>
public sealed class GrpcLoopbackTests(CSharpToolsServer server) : IClassFixture<CSharpToolsServer>
{
    private const string Service = CSharpToolsServer.Service;
    private static readonly GrpcCallOptions Bounded = new() { Timeout = TimeSpan.FromSeconds(30) };

    private GrpcUnaryClient Client => GrpcTestServer.CreateClient(server.Address);

    [Fact]
    public async Task Round_trip_with_metadata_and_deadline()
    {
        var options = new GrpcCallOptions
        {
            Deadline = DateTimeOffset.UtcNow.AddSeconds(30),
            Headers = new Dictionary<string, string> { ["authorization"] = "Bearer abc" },
        };
        var request = new ExecuteToolRequest { Name = "echo", InputJson = "{}", Caller = new Caller { UserId = "u-1", Admin = true } };

        var reply = await Client.CallAsync(Service, "ExecuteTool", request, ExecuteToolReply.Parser, options);

        var output = JsonDocument.Parse(reply.OutputJson).RootElement;
        Assert.Equal("u-1", output.GetProperty("userId").GetString());
        Assert.True(output.GetProperty("admin").GetBoolean());
        Assert.Equal("Bearer abc", output.GetProperty("authorization").GetString());
        Assert.True(output.GetProperty("hasDeadline").GetBoolean());
    }

    [Fact]
    public async Task Without_a_deadline_the_handler_sees_none()
    {
        var reply = await Client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = "echo" }, ExecuteToolReply.Parser);

        Assert.False(JsonDocument.Parse(reply.OutputJson).RootElement.GetProperty("hasDeadline").GetBoolean());
    }

    [Fact]
    public async Task GrpcException_round_trips_code_and_message()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Call("deny"));

        Assert.Equal(GrpcStatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal(CSharpToolsServer.DenyMessage, ex.Detail);
    }

    [Fact]
    public async Task Plain_exception_is_Internal_and_hides_its_message()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Call("throw"));

        Assert.Equal(GrpcStatusCode.Internal, ex.StatusCode);
        Assert.Equal("Internal error", ex.Detail);
    }

    [Fact]
    public async Task Client_deadline_is_DeadlineExceeded()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() =>
            Client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = "hang" }, ExecuteToolReply.Parser,
                new GrpcCallOptions { Timeout = TimeSpan.FromMilliseconds(200) }));

        Assert.Equal(GrpcStatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task Deadline_already_passed_fails_without_calling()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() =>
            Client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = "echo" }, ExecuteToolReply.Parser,
                new GrpcCallOptions { Deadline = DateTimeOffset.UtcNow.AddSeconds(-1) }));

        Assert.Equal(GrpcStatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task Caller_cancellation_is_OperationCanceledException()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = "hang" }, ExecuteToolReply.Parser, Bounded, cts.Token));
    }

    [Fact]
    public async Task Server_answers_at_the_grpc_timeout_even_when_the_handler_ignores_its_token()
    {
        // A raw request: grpc-timeout is the only deadline, so the status must come from the server.
        using var http = RawClient();
        using var request = RawRequest("ExecuteTool", Frame(new ExecuteToolRequest { Name = "ignore-token" }.ToByteArray()));
        request.Headers.Add("grpc-timeout", "100m");

        try
        {
            using var response = await http.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("4", Status(response)); // DeadlineExceeded
        }
        finally
        {
            server.ReleaseIgnoringHandler();
        }
    }

    [Fact]
    public async Task Success_sends_status_in_trailers_after_one_frame()
    {
        using var http = RawClient();
        using var request = RawRequest("ExecuteTool", Frame(new ExecuteToolRequest { Name = "echo" }.ToByteArray()));

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, body[0]);
        Assert.Equal(body.Length - 5, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(1)));
        Assert.Equal("0", string.Join(",", response.TrailingHeaders.GetValues("grpc-status")));
    }

    [Fact]
    public async Task Non_grpc_content_type_is_415()
    {
        using var http = RawClient();
        using var request = RawRequest("ExecuteTool", Frame([]));
        request.Content!.Headers.ContentType = new("application/json");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Compressed_request_is_Unimplemented()
    {
        using var http = RawClient();
        var frame = Frame([1, 2, 3]);
        frame[0] = 1; // compressed flag
        using var request = RawRequest("ExecuteTool", frame);

        using var response = await http.SendAsync(request);

        Assert.Equal("12", Status(response));
    }

    [Fact]
    public async Task Truncated_request_is_Internal()
    {
        using var http = RawClient();
        using var request = RawRequest("ExecuteTool", Frame(new byte[10])[..8]);

        using var response = await http.SendAsync(request);

        Assert.Equal("13", Status(response));
    }

    [Fact]
    public async Task Unmapped_method_is_Unimplemented_through_the_fallback()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() =>
            Client.CallAsync("other.v1.Other", "Method", new ExecuteToolRequest(), ExecuteToolReply.Parser, Bounded));

        Assert.Equal(GrpcStatusCode.Unimplemented, ex.StatusCode);
        Assert.Contains("/other.v1.Other/Method", ex.Detail);
    }

    [Fact]
    public async Task Fallback_leaves_REST_routes_with_two_segments_alone()
    {
        await using var mixed = await GrpcTestServer.StartAsync(app =>
        {
            app.MapPost("/items/{collection}", (string collection) => Results.Ok(collection));
            app.MapGrpcFallback();
        });
        using var http = new HttpClient(GrpcUnaryClient.CreateHandler()) { BaseAddress = new Uri(mixed.Address) };

        using var rest = await http.SendAsync(Json("/items/articles"));
        using var unmapped = await http.SendAsync(Json("/other/thing"));

        Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        Assert.Equal("\"articles\"", await rest.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unmapped.StatusCode); // the documented cost of the fallback

        static HttpRequestMessage Json(string path) => new(HttpMethod.Post, path)
        {
            Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json"),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    [Fact]
    public async Task Refused_connection_is_Unavailable()
    {
        var client = GrpcTestServer.CreateClient($"http://127.0.0.1:{UnusedPort()}");

        var ex = await Assert.ThrowsAsync<GrpcException>(() =>
            client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest(), ExecuteToolReply.Parser, Bounded));

        Assert.Equal(GrpcStatusCode.Unavailable, ex.StatusCode);
    }

    [Theory]
    [InlineData("/s.S/Busy", GrpcStatusCode.Unavailable)]     // 503
    [InlineData("/s.S/Denied", GrpcStatusCode.PermissionDenied)] // 403
    [InlineData("/s.S/Missing", GrpcStatusCode.Unimplemented)] // 404: nothing mapped, no gRPC fallback
    public async Task Non_200_HTTP_status_maps_to_gRPC_status(string path, GrpcStatusCode expected)
    {
        await using var plain = await GrpcTestServer.StartAsync(app =>
        {
            app.MapPost("/s.S/Busy", () => Results.StatusCode(503));
            app.MapPost("/s.S/Denied", () => Results.StatusCode(403));
        });
        var method = path.Split('/')[2];

        var ex = await Assert.ThrowsAsync<GrpcException>(() =>
            GrpcTestServer.CreateClient(plain.Address).CallAsync("s.S", method, new ExecuteToolRequest(), ExecuteToolReply.Parser, Bounded));

        Assert.Equal(expected, ex.StatusCode);
    }

    private Task<ExecuteToolReply> Call(string name) =>
        Client.CallAsync(Service, "ExecuteTool", new ExecuteToolRequest { Name = name }, ExecuteToolReply.Parser, Bounded);

    private HttpClient RawClient() => new(GrpcUnaryClient.CreateHandler())
    {
        BaseAddress = new Uri(server.Address),
        Timeout = TimeSpan.FromSeconds(30), // failure bound only
    };

    private static HttpRequestMessage RawRequest(string method, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/grpc");
        return new HttpRequestMessage(HttpMethod.Post, $"/{Service}/{method}")
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    private static byte[] Frame(byte[] message)
    {
        var frame = new byte[5 + message.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    // Trailers-only responses carry the status in the headers.
    private static string Status(HttpResponseMessage response) =>
        response.Headers.TryGetValues("grpc-status", out var values) ? string.Join(",", values) : "(none)";

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
