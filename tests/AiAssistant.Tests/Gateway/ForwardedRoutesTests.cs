using System.Net;
using System.Text.Json;
using AiAssistant.Gateway.Forwarding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace AiAssistant.Tests.Gateway;

/// <summary>Which upstream a request reaches: prefixes by whole segment, longest first, replicas in turn, 404 otherwise.</summary>
public class ForwardedRoutesTests
{
    private static Task<LoopbackApp> NamedUpstreamAsync(string name) =>
        LoopbackApp.UpstreamAsync(context => context.Response.WriteAsync($"{name} {context.Request.Path}"));

    [Theory]
    [InlineData("/ai", "chat /ai")]
    [InlineData("/ai/", "chat /ai/")]
    [InlineData("/ai/chat", "chat /ai/chat")]
    [InlineData("/AI/chat", "chat /AI/chat")]
    [InlineData("/ai/admin", "settings /ai/admin")]
    [InlineData("/ai/admin/keys/1", "settings /ai/admin/keys/1")]
    [InlineData("/ai/administrators", "chat /ai/administrators")]
    [InlineData("/items/articles/1", "tools /items/articles/1")]
    public async Task A_path_goes_to_the_service_of_its_longest_prefix(string path, string expected)
    {
        await using var chat = await NamedUpstreamAsync("chat");
        await using var settings = await NamedUpstreamAsync("settings");
        await using var tools = await NamedUpstreamAsync("tools");
        await using var gateway = await LoopbackApp.GatewayAsync(new GatewayConfig()
            .Route("/ai", "chat").Route("/ai/admin", "settings").Route("/items", "tools")
            .Service("chat", chat).Service("settings", settings).Service("tools", tools));
        using var client = gateway.Client();

        var body = await client.GetStringAsync(path);

        Assert.Equal(expected, body);
    }

    [Theory]
    [InlineData("/aix")]
    [InlineData("/itemsx/1")]
    [InlineData("/")]
    [InlineData("/nowhere/at/all")]
    public async Task A_path_no_prefix_covers_gets_route_not_found(string path)
    {
        await using var chat = await NamedUpstreamAsync("chat");
        await using var gateway = await LoopbackApp.GatewayAsync(new GatewayConfig()
            .Route("/ai", "chat").Route("/items", "chat").Service("chat", chat));
        using var client = gateway.Client();

        using var response = await client.PostAsync(path, new StringContent("{}"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var (code, message) = await ReadErrorAsync(response);
        Assert.Equal("ROUTE_NOT_FOUND", code);
        Assert.Equal($"Route {path} doesn't exist.", message);
    }

    [Fact]
    public async Task Replicas_of_a_service_take_turns_across_all_its_routes()
    {
        await using var first = await NamedUpstreamAsync("first");
        await using var second = await NamedUpstreamAsync("second");
        await using var gateway = await LoopbackApp.GatewayAsync(new GatewayConfig()
            .Route("/items", "tools").Route("/files", "tools").Service("tools", first, second));
        using var client = gateway.Client();

        var answered = new List<string>();
        foreach (var path in new[] { "/items/a", "/items/b", "/files/c", "/items/d", "/files/e" })
            answered.Add(await client.GetStringAsync(path));

        Assert.Equal(["first /items/a", "second /items/b", "first /files/c", "second /items/d", "first /files/e"], answered);
    }

    [Fact]
    public async Task Middleware_before_the_forwarder_sees_the_route_of_the_request()
    {
        await using var chat = await NamedUpstreamAsync("chat");
        var seen = new List<string>();
        await using var gateway = await LoopbackApp.GatewayAsync(
            new GatewayConfig().Route("/ai", "chat").Service("chat", chat),
            before: app => app.Use((context, next) =>
            {
                seen.Add(context.GetGatewayRoute()?.Service ?? "none");
                return next(context);
            }));
        using var client = gateway.Client();

        await client.GetStringAsync("/ai/chat");
        using var _ = await client.GetAsync("/unknown");

        Assert.Equal(["chat", "none"], seen);
    }

    internal static async Task<(string? Code, string? Message)> ReadErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("errors")[0];
        return (error.GetProperty("extensions").GetProperty("code").GetString(), error.GetProperty("message").GetString());
    }
}
