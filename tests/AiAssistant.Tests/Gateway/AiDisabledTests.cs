using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.Gateway;

/// <summary>AI_ENABLED=false: the real gateway process answers /ai/* as a route that does not exist, as the reference does.</summary>
[Collection(ServersCollection.Name)]
public sealed class AiDisabledTests(ServersFixture servers)
{
    [Fact]
    public async Task Ai_routes_are_404_and_everything_else_is_still_served()
    {
        var unreachable = $"http://127.0.0.1:{GatewayProcess.FreePort()}";
        var environment = new Dictionary<string, string>
        {
            ["AI_ENABLED"] = "false",
            ["ConnectionStrings__redis"] = servers.RedisConnectionString,
            ["Internal__Token"] = "test-internal",
            ["Auth__JwtKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["services__settings__grpc__0"] = unreachable,
        };
        foreach (var service in new[] { "settings", "tools", "chat" }) environment[$"services__{service}__http__0"] = unreachable;
        await using var gateway = await GatewayProcess.StartAsync(environment);
        using var http = new HttpClient { BaseAddress = new Uri(gateway.Url) };
        foreach (var path in new[] { "/ai/chat", "/ai/models" })
        {
            using var response = await http.PostAsync(path, new StringContent("{}"));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!;
            Assert.Equal($"Route {path} doesn't exist.", error["message"]!.GetValue<string>());
            Assert.Equal("ROUTE_NOT_FOUND", error["extensions"]!["code"]!.GetValue<string>());
        }
        // The settings stay routed, not hidden: forwarded (as the Public policy) to a settings service that is not
        // running here, so the gateway's own 502.
        Assert.Equal(HttpStatusCode.BadGateway, (await http.GetAsync("/settings")).StatusCode);
    }
}
