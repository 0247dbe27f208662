using System.Net;
using AiAssistant.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace AiAssistant.Tests.Gateway;

/// <summary>The gate in front of YARP: who gets through to a service, and /ai without AI.</summary>
[Collection(ServersCollection.Name)]
public sealed class GatewayAccessTests(ServersFixture servers)
{
    /// <summary>An upstream standing in for every service; it counts what reached it and echoes the Authorization header.</summary>
    private sealed class CountingUpstream : IAsyncDisposable
    {
        private int _reached;
        private LoopbackApp _app = null!;

        public int Reached => Volatile.Read(ref _reached);

        public static async Task<CountingUpstream> StartAsync()
        {
            var upstream = new CountingUpstream();
            upstream._app = await LoopbackApp.UpstreamAsync(context =>
            {
                Interlocked.Increment(ref upstream._reached);
                return context.Response.WriteAsync($"reached with {context.Request.Headers.Authorization}");
            });
            return upstream;
        }

        public GatewayConfig Config() => new GatewayConfig().Service("settings", _app).Service("tools", _app).Service("chat", _app);

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    [Theory]
    [InlineData("/settings")]
    [InlineData("/ai/chat")]
    [InlineData("/items/articles")]
    [InlineData("/auth/me")]
    public async Task A_caller_without_a_token_goes_on_as_the_public_policy(string path)
    {
        await using var upstream = await CountingUpstream.StartAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstream.Config());
        using var client = gateway.Client();

        using var response = await client.GetAsync(path);

        // the service decides what the Public policy may do (each answers 403 where it holds no grant)
        Assert.Equal(1, upstream.Reached);
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
    }

    [Theory]
    [InlineData("not-a-known-token", "INVALID_CREDENTIALS")]
    [InlineData(GatewayUsers.SuspendedUserToken, "INVALID_CREDENTIALS")]
    [InlineData("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpZCI6IngiLCJhZG1pbl9hY2Nlc3MiOnRydWV9.", "INVALID_TOKEN")]
    public async Task A_token_of_nobody_active_is_refused_before_any_service(string token, string expectedCode)
    {
        await using var upstream = await CountingUpstream.StartAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstream.Config());
        using var client = gateway.Client(token);

        using var response = await client.GetAsync("/ai/models");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(expectedCode, (await ProxyRoutesTests.ReadErrorAsync(response)).Code);
        Assert.Equal(0, upstream.Reached);
    }

    [Theory]
    [InlineData("/auth/login")]
    [InlineData("/auth/refresh")]
    [InlineData("/auth/logout")]
    [InlineData("/server/ping")]
    public async Task Sign_in_routes_and_ping_are_open(string path)
    {
        await using var upstream = await CountingUpstream.StartAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstream.Config());
        using var client = gateway.Client();

        using var response = await client.PostAsync(path, new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, upstream.Reached);
    }

    [Fact]
    public async Task An_active_users_request_reaches_the_service_with_its_token_unchanged()
    {
        await using var upstream = await CountingUpstream.StartAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstream.Config());
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        Assert.Equal($"reached with Bearer {GatewayUsers.AppUserToken}", await client.GetStringAsync("/ai/models"));
        Assert.Equal($"reached with Bearer {GatewayUsers.AppUserToken}", await client.GetStringAsync("/users/me"));
    }

    [Fact]
    public async Task A_403_from_a_service_reaches_the_caller_unchanged()
    {
        const string forbidden = """{"errors":[{"message":"You don't have permission to access this.","extensions":{"code":"FORBIDDEN"}}]}""";
        await using var settings = await LoopbackApp.UpstreamAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.ContentType = "application/json; charset=utf-8";
            return context.Response.WriteAsync(forbidden);
        });
        await using var gateway = await LoopbackApp.GatewayAsync(servers, new GatewayConfig().Service("settings", settings));
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        using var response = await client.GetAsync("/settings");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(forbidden, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(GatewayUsers.AppUserToken)]
    public async Task With_ai_disabled_ai_routes_do_not_exist_and_the_rest_is_still_served(string? token)
    {
        await using var upstream = await CountingUpstream.StartAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstream.Config().AiDisabled());
        using var client = gateway.Client(token);

        foreach (var path in new[] { "/ai/chat", "/ai/models", "/ai" })
        {
            using var response = await client.PostAsync(path, new StringContent("{}"));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var (code, message) = await ProxyRoutesTests.ReadErrorAsync(response);
            Assert.Equal("ROUTE_NOT_FOUND", code);
            Assert.Equal($"Route {path} doesn't exist.", message);
        }
        Assert.Equal(0, upstream.Reached);

        using var settings = await client.GetAsync("/settings");
        Assert.Equal(HttpStatusCode.OK, settings.StatusCode); // the counting upstream answers everyone
        Assert.Equal(1, upstream.Reached);
    }
}
