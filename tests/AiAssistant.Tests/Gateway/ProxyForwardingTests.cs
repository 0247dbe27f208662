using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.Gateway;

/// <summary>What crosses the gateway (YARP) and when: headers, bodies in both directions as they come, cancellation, failures.</summary>
[Collection(ServersCollection.Name)]
public sealed class ProxyForwardingTests(ServersFixture servers)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    /// <summary>The gateway with <paramref name="upstream"/> as both chat (/ai) and tools (/items).</summary>
    private Task<LoopbackApp> GatewayToAsync(LoopbackApp upstream, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null) =>
        LoopbackApp.GatewayAsync(servers, new GatewayConfig().Service("chat", upstream).Service("tools", upstream), configure);

    private static HttpClient SignedIn(LoopbackApp gateway) => gateway.Client(GatewayUsers.AppUserToken);

    /// <summary>Answers with what it received, as JSON.</summary>
    private static Task<LoopbackApp> EchoUpstreamAsync() => LoopbackApp.UpstreamAsync(async context =>
    {
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in context.Request.Headers) headers[name] = string.Join("|", values.ToArray());
        await context.Response.WriteAsJsonAsync(new Echo(
            context.Request.Method,
            context.Request.Path.Value + context.Request.QueryString.Value,
            body,
            headers));
    });

    private sealed record Echo(string Method, string Target, string Body, Dictionary<string, string> Headers);

    private static async Task<Echo> ReadEchoAsync(HttpResponseMessage response)
    {
        response.EnsureSuccessStatusCode();
        return JsonSerializer.Deserialize<Echo>(await response.Content.ReadAsStringAsync(), JsonSerializerOptions.Web)!;
    }

    [Theory]
    [InlineData("PUT", "{\"title\":\"Hello\"}")]
    [InlineData("PATCH", "{\"title\":\"Hello\"}")]
    [InlineData("SEARCH", "{\"query\":{\"limit\":1}}")]
    [InlineData("DELETE", "")]
    [InlineData("GET", "")]
    public async Task Method_path_query_body_and_headers_arrive(string method, string body)
    {
        await using var chat = await EchoUpstreamAsync();
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);
        const string target = "/items/articles/a%20b%2Fc?fields=*,id&filter=%7B%22title%22%3A1%7D&sort=-date";
        using var request = new HttpRequestMessage(new HttpMethod(method), target);
        if (body.Length > 0) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        request.Headers.Authorization = new("Bearer", GatewayUsers.AppUserToken);
        request.Headers.Add("X-Custom", "one");
        request.Headers.Add("Accept", "application/json");

        var echo = await ReadEchoAsync(await client.SendAsync(request));

        Assert.Equal(method, echo.Method);
        // The service sees the path it would see without the gateway. (On the wire YARP sends %2F as %252F, which
        // Kestrel decodes to the same path: dotnet/yarp#1419.)
        Assert.Equal("/items/articles/a b%2Fc?fields=*,id&filter=%7B%22title%22%3A1%7D&sort=-date", echo.Target);
        Assert.Equal(body, echo.Body);
        Assert.Equal($"Bearer {GatewayUsers.AppUserToken}", echo.Headers["Authorization"]);
        Assert.Equal("one", echo.Headers["X-Custom"]);
        Assert.Equal("application/json", echo.Headers["Accept"]);
        if (body.Length > 0)
        {
            Assert.Equal("application/json; charset=utf-8", echo.Headers["Content-Type"]);
            Assert.Equal(Encoding.UTF8.GetByteCount(body).ToString(), echo.Headers["Content-Length"]);
        }
        Assert.Equal(chat.Address.Authority, echo.Headers["Host"]);
    }

    [Fact]
    public async Task Hop_by_hop_request_headers_stay_behind_and_forwarded_headers_are_added()
    {
        await using var chat = await EchoUpstreamAsync();
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ai/chat");
        request.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic c2VjcmV0");
        request.Headers.TryAddWithoutValidation("Proxy-Connection", "keep-alive");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "spoofed.example");
        request.Headers.Add("X-End-To-End", "kept");

        var echo = await ReadEchoAsync(await client.SendAsync(request));

        // (YARP drops the headers RFC 9110 names hop-by-hop, not further ones a Connection header lists.)
        foreach (var hop in new[] { "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Upgrade", "TE", "Connection" })
            Assert.False(echo.Headers.ContainsKey(hop), $"{hop} reached the upstream");
        Assert.Equal("kept", echo.Headers["X-End-To-End"]);
        Assert.Equal("203.0.113.7, 127.0.0.1", echo.Headers["X-Forwarded-For"]);
        Assert.Equal("http", echo.Headers["X-Forwarded-Proto"]);
        Assert.Equal(gateway.Address.Authority, echo.Headers["X-Forwarded-Host"]);
    }

    [Fact]
    public async Task Response_status_and_headers_come_back_without_hop_by_hop_ones()
    {
        await using var chat = await LoopbackApp.UpstreamAsync(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status201Created;
            context.Response.Headers["Keep-Alive"] = "timeout=5";
            context.Response.Headers["Proxy-Authenticate"] = "Basic";
            context.Response.Headers["X-Upstream"] = "kept";
            context.Response.Headers.Append("Set-Cookie", "a=1; Path=/");
            context.Response.Headers.Append("Set-Cookie", "b=2; Path=/");
            context.Response.Headers.ContentLanguage = "fr";
            context.Response.ContentType = "application/vnd.directus+json";
            await context.Response.WriteAsync("{\"data\":1}");
        });
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);

        using var response = await client.GetAsync("/ai/chat");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("{\"data\":1}", await response.Content.ReadAsStringAsync());
        Assert.Equal(["kept"], response.Headers.GetValues("X-Upstream"));
        Assert.Equal(["a=1; Path=/", "b=2; Path=/"], response.Headers.GetValues("Set-Cookie"));
        Assert.Equal("application/vnd.directus+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["fr"], response.Content.Headers.ContentLanguage);
        Assert.False(response.Headers.Contains("Keep-Alive"));
        Assert.False(response.Headers.Contains("Proxy-Authenticate"));
    }

    [Theory]
    [InlineData(400, "application/json", "{\"errors\":[{\"message\":\"Invalid payload.\",\"extensions\":{\"code\":\"INVALID_PAYLOAD\"}}]}")]
    [InlineData(401, "application/json", "{\"errors\":[{\"message\":\"Invalid user credentials.\",\"extensions\":{\"code\":\"INVALID_CREDENTIALS\"}}]}")]
    [InlineData(403, "application/json", "{\"errors\":[{\"message\":\"No.\",\"extensions\":{\"code\":\"FORBIDDEN\"}}]}")]
    [InlineData(404, "application/json", "{\"errors\":[{\"message\":\"Item not found.\",\"extensions\":{\"code\":\"NOT_FOUND\"}}]}")]
    [InlineData(500, "text/plain", "upstream exploded")]
    [InlineData(503, "application/json", "{\"errors\":[{\"message\":\"Provider down.\",\"extensions\":{\"code\":\"SERVICE_UNAVAILABLE\"}}]}")]
    public async Task Upstream_errors_pass_through_unchanged(int status, string contentType, string body)
    {
        await using var chat = await LoopbackApp.UpstreamAsync(context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            return context.Response.WriteAsync(body);
        });
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);

        using var response = await client.PostAsync("/items/articles", new StringContent("{}"));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_server_sent_event_reaches_the_client_while_the_upstream_is_still_writing()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var chat = await LoopbackApp.UpstreamAsync(async context =>
        {
            await StartEventStreamAsync(context);
            await release.Task;
            await context.Response.WriteAsync("data: {\"type\":\"finish\"}\n\n");
        });
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);
        try
        {
            using var response = await client.GetAsync("/ai/chat", HttpCompletionOption.ResponseHeadersRead);
            using var events = new StreamReader(await response.Content.ReadAsStreamAsync());

            // The upstream is parked on `release` until this line has been read: buffering anywhere would hang here.
            var first = await events.ReadLineAsync().WaitAsync(Generous);
            Assert.Equal(StartEvent, first);
            release.SetResult();

            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("\ndata: {\"type\":\"finish\"}\n\n", await events.ReadToEndAsync().WaitAsync(Generous));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    private const string StartEvent = "data: {\"type\":\"start\"}";

    /// <summary>What a chat turn's upstream sends first: SSE headers and one event, flushed.</summary>
    private static async Task StartEventStreamAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        await context.Response.WriteAsync(StartEvent + "\n\n");
        await context.Response.Body.FlushAsync();
    }

    [Fact]
    public async Task An_upload_reaches_the_upstream_while_the_client_is_still_sending()
    {
        // YARP passes the body on in pieces as they come; over HTTP/1.1 HttpClient may hold a last few KB until more
        // follows or the body ends, so the first part is large and the upstream waits for most of it.
        const int firstPart = 1024 * 1024;
        var firstPartArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var chat = await LoopbackApp.UpstreamAsync(async context =>
        {
            long received = 0;
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                received += read;
                if (received >= firstPart / 2) firstPartArrived.TrySetResult();
            }
            await context.Response.WriteAsync(received.ToString());
        });
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);

        // The client sends the first part, then waits until the upstream has most of it before sending the rest.
        using var response = await client.PostAsync("/files", new TwoPartContent(new byte[firstPart], new byte[10], firstPartArrived.Task));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((firstPart + 10).ToString(), await response.Content.ReadAsStringAsync());
    }

    private sealed class TwoPartContent(byte[] first, byte[] second, Task sendSecondAfter) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            await sendSecondAfter.WaitAsync(Generous);
            await stream.WriteAsync(second);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3 * 1024 * 1024)]
    public async Task Bodies_of_any_size_cross_intact_in_both_directions(int size)
    {
        await using var chat = await LoopbackApp.UpstreamAsync(context => context.Request.Body.CopyToAsync(context.Response.Body));
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);

        using var withLength = await client.PostAsync("/ai/files", new ByteArrayContent(payload));
        using var chunked = await client.PostAsync("/ai/files", new StreamContent(new UnknownLengthStream(payload)));

        Assert.Equal(payload, await withLength.Content.ReadAsByteArrayAsync());
        Assert.Equal(payload, await chunked.Content.ReadAsByteArrayAsync());
    }

    /// <summary>A body whose length HttpClient cannot know, so it goes chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task A_client_leaving_mid_stream_cancels_the_upstream_call()
    {
        var upstreamAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var chat = await LoopbackApp.UpstreamAsync(async context =>
        {
            context.RequestAborted.Register(() => upstreamAborted.TrySetResult());
            await StartEventStreamAsync(context);
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
        });
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);
        using var response = await client.GetAsync("/ai/chat", HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1024];
        Assert.True(await stream.ReadAsync(buffer).AsTask().WaitAsync(Generous) > 0);

        // Like a browser tab closing: the read in progress is abandoned and the connection dropped.
        using var leave = new CancellationTokenSource();
        var pending = stream.ReadAsync(buffer, leave.Token).AsTask();
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        await upstreamAborted.Task.WaitAsync(Generous);
        Assert.True(upstreamAborted.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_client_leaving_before_the_answer_starts_cancels_the_upstream_call()
    {
        var upstreamEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var chat = await LoopbackApp.UpstreamAsync(async context =>
        {
            context.RequestAborted.Register(() => upstreamAborted.TrySetResult());
            upstreamEntered.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
        });
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);
        using var leave = new CancellationTokenSource();

        var call = client.GetAsync("/ai/chat", leave.Token);
        await upstreamEntered.Task.WaitAsync(Generous);
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        await upstreamAborted.Task.WaitAsync(Generous);
        Assert.True(upstreamAborted.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task An_upstream_that_breaks_off_mid_body_breaks_the_clients_response_too()
    {
        var breakOff = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var chat = await LoopbackApp.UpstreamAsync(async context =>
        {
            await StartEventStreamAsync(context);
            await breakOff.Task;
            context.Abort();
        });
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);
        using var response = await client.GetAsync("/ai/chat", HttpCompletionOption.ResponseHeadersRead);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(StartEvent, await events.ReadLineAsync().WaitAsync(Generous));

        breakOff.SetResult();

        // Ending the client's chunked body cleanly would pass a truncated answer off as complete.
        await Assert.ThrowsAnyAsync<IOException>(() => events.ReadToEndAsync().WaitAsync(Generous));
    }

    [Fact]
    public async Task An_unreachable_service_gets_a_502_envelope_naming_it()
    {
        await using var gateway = await LoopbackApp.GatewayAsync(servers, new GatewayConfig()
            .Service("chat", $"http://127.0.0.1:{ClosedPort()}"));
        using var client = SignedIn(gateway);

        using var response = await client.PostAsync("/ai/chat", new StringContent("{\"messages\":[]}"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var (code, message) = await ProxyRoutesTests.ReadErrorAsync(response);
        Assert.Equal("SERVICE_UNAVAILABLE", code);
        Assert.Equal("Service \"chat\" is unavailable. Could not reach it.", message);
    }

    [Fact]
    public async Task A_service_without_an_address_gets_a_502_envelope_naming_it()
    {
        // No services:chat:http:0: service discovery passes the name through, and "chat" resolves nowhere.
        await using var gateway = await LoopbackApp.GatewayAsync(servers, new GatewayConfig());
        using var client = SignedIn(gateway);

        using var response = await client.GetAsync("/ai/chat");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var (code, message) = await ProxyRoutesTests.ReadErrorAsync(response);
        Assert.Equal("SERVICE_UNAVAILABLE", code);
        Assert.Equal("Service \"chat\" is unavailable. Could not reach it.", message);
    }

    [Fact]
    public async Task A_body_the_gateway_refuses_is_the_clients_fault_not_the_services()
    {
        await using var chat = await LoopbackApp.UpstreamAsync(context => context.Request.Body.CopyToAsync(context.Response.Body));
        await using var gateway = await GatewayToAsync(chat,
            configure: builder => builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 1024));
        using var client = SignedIn(gateway);

        using var response = await client.PostAsync("/ai/chat", new ByteArrayContent(new byte[4096]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var (code, _) = await ProxyRoutesTests.ReadErrorAsync(response);
        Assert.Equal("CONTENT_TOO_LARGE", code); // Directus's code for a 413
    }

    [Fact]
    public async Task An_upstream_dying_before_its_body_gets_a_502_envelope()
    {
        await using var chat = await LoopbackApp.UpstreamAsync(async context =>
        {
            context.Response.ContentLength = 100;
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);

        using var response = await client.GetAsync("/ai/chat");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var (code, _) = await ProxyRoutesTests.ReadErrorAsync(response);
        Assert.Equal("SERVICE_UNAVAILABLE", code);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_trace_context_flows_to_the_upstream(bool gatewayTraces)
    {
        using var listener = gatewayTraces ? ListenToEveryActivity() : null;
        await using var chat = await EchoUpstreamAsync();
        await using var gateway = await GatewayToAsync(chat);
        using var client = SignedIn(gateway);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var clientSpanId = ActivitySpanId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ai/chat");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{clientSpanId}-01");

        var echo = await ReadEchoAsync(await client.SendAsync(request));

        var traceparent = echo.Headers["traceparent"].Split('-');
        Assert.Equal(4, traceparent.Length); // one value, not the client's and the gateway's side by side
        Assert.Equal(traceId, traceparent[1]);
        // When the gateway traces, the upstream's parent is the gateway's outgoing call, not the client.
        Assert.Equal(gatewayTraces, traceparent[2] != clientSpanId);
    }

    private static ActivityListener ListenToEveryActivity()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    internal static int ClosedPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port; // bound but never listening: connections are refused
    }
}
