using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace AiAssistant.Tests.Gateway;

/// <summary>Which upstream a request reaches through the gateway's own route table: whole segments, replicas in turn, 404 otherwise.</summary>
[Collection(ServersCollection.Name)]
public sealed class ProxyRoutesTests(ServersFixture servers)
{
    private static Task<LoopbackApp> NamedUpstreamAsync(string name) =>
        LoopbackApp.UpstreamAsync(context => context.Response.WriteAsync($"{name} {context.Request.Path}"));

    private static readonly string[] Services = ["settings", "tools", "chat"];

    public static TheoryData<string, string> DirectusPaths => new()
    {
        { "/server/info", "settings" },
        { "/settings", "settings" },
        { "/auth/login", "settings" },
        { "/users/me", "settings" },
        { "/roles", "settings" },
        { "/policies/1", "settings" },
        { "/permissions/me", "settings" },
        { "/ai/chat", "chat" },
        { "/ai/files", "chat" },
        { "/ai/tool-calls", "tools" },
        { "/ai/prompts-collection", "tools" },
        { "/items/articles/1", "tools" },
        { "/collections", "tools" },
        { "/fields/articles", "tools" },
        { "/relations", "tools" },
        { "/files", "tools" },
        { "/folders", "tools" },
        { "/assets/1", "tools" },
        { "/flows", "tools" },
        { "/operations", "tools" },
        { "/notifications/1", "tools" },
        { "/mcp", "tools" },
        { "/schema/snapshot", "tools" },
        { "/activity", "tools" },
        { "/revisions", "tools" },
    };

    [Theory]
    [MemberData(nameof(DirectusPaths))]
    public async Task Each_directus_path_reaches_its_service(string path, string service)
    {
        await using var upstreams = await UpstreamsAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstreams.Config);
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        Assert.Equal($"{service} {path}", await client.GetStringAsync(path));
    }

    [Fact]
    public void The_route_table_has_one_route_per_prefix_and_a_cluster_per_service()
    {
        var proxy = JsonNode.Parse(File.ReadAllText(GatewayConfig.AppSettingsPath()))!["ReverseProxy"]!;
        var routes = proxy["Routes"]!.AsObject().Select(r => (Path: r.Value!["Match"]!["Path"]!.GetValue<string>(), Cluster: r.Value!["ClusterId"]!.GetValue<string>())).ToList();

        // a route per first segment, and the Tools routes under /ai by their two segments, as /ai/files (its own body limit)
        static bool TwoSegments(string path, string service) =>
            path.StartsWith("/ai/", StringComparison.Ordinal) && (service == "tools" || path == "/ai/files");
        var expected = DirectusPaths.Select(row => ((string)row[0], (string)row[1]))
            .Select(row => (TwoSegments(row.Item1, row.Item2) ? $"{row.Item1}/{{**rest}}" : $"/{row.Item1.Split('/')[1]}/{{**rest}}", row.Item2))
            .Distinct().ToList();
        Assert.Equal(expected.Order(), routes.Order());
        foreach (var service in Services)
        {
            var cluster = proxy["Clusters"]![service]!;
            Assert.Equal($"http://{service}", cluster["Destinations"]!.AsObject().Single().Value!["Address"]!.GetValue<string>());
            Assert.Equal("RoundRobin", cluster["LoadBalancingPolicy"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("/ai")]
    [InlineData("/ai/")]
    [InlineData("/AI/chat")]
    [InlineData("/ai/chat/deeper/still")]
    public async Task A_prefix_matches_itself_and_everything_below_it_in_any_case(string path)
    {
        await using var upstreams = await UpstreamsAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstreams.Config);
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        Assert.Equal($"chat {path}", await client.GetStringAsync(path));
    }

    [Theory]
    [InlineData("/ai/tool-calls/12", "tools")]
    [InlineData("/AI/Tool-Calls", "tools")]
    [InlineData("/ai/prompts-collection/", "tools")]
    [InlineData("/ai/tool-callsx", "chat")]
    [InlineData("/ai/chat/tool-calls", "chat")]
    public async Task The_tools_routes_under_ai_win_over_the_chat_route_by_whole_segments(string path, string service)
    {
        await using var upstreams = await UpstreamsAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstreams.Config);
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        Assert.Equal($"{service} {path}", await client.GetStringAsync(path));
    }

    [Theory]
    [InlineData("/aix")]
    [InlineData("/itemsx/1")]
    [InlineData("/")]
    [InlineData("/nowhere/at/all")]
    public async Task A_path_no_prefix_covers_gets_route_not_found(string path)
    {
        await using var upstreams = await UpstreamsAsync();
        await using var gateway = await LoopbackApp.GatewayAsync(servers, upstreams.Config);
        using var client = gateway.Client(GatewayUsers.AppUserToken);

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
        await using var gateway = await LoopbackApp.GatewayAsync(servers, new GatewayConfig().Service("tools", first, second));
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        var answered = new List<string>();
        foreach (var path in new[] { "/items/a", "/files/b", "/collections/c", "/items/d", "/files/e", "/flows/f" })
            answered.Add((await client.GetStringAsync(path)).Split(' ')[0]);

        // Whichever replica comes first, each request goes to the other one than the request before it.
        Assert.All(answered.Zip(answered.Skip(1)), pair => Assert.NotEqual(pair.First, pair.Second));
        Assert.Equal(3, answered.Count(a => a == "first"));
    }

    /// <summary>One named upstream per service, and the gateway configuration that points at them.</summary>
    private static async Task<Upstreams> UpstreamsAsync()
    {
        var apps = new List<LoopbackApp>();
        var config = new GatewayConfig();
        foreach (var service in Services)
        {
            var app = await NamedUpstreamAsync(service);
            apps.Add(app);
            config.Service(service, app);
        }
        return new Upstreams(apps, config);
    }

    private sealed record Upstreams(List<LoopbackApp> Apps, GatewayConfig Config) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var app in Apps) await app.DisposeAsync();
        }
    }

    internal static async Task<(string? Code, string? Message)> ReadErrorAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("errors")[0];
        return (error.GetProperty("extensions").GetProperty("code").GetString(), error.GetProperty("message").GetString());
    }
}
