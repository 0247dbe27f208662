using System.Diagnostics;
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
        var port = FreePort();
        var unreachable = $"http://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet", BuiltGateway()) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["AI_ENABLED"] = "false";
        start.Environment["Kestrel__Endpoints__http__Url"] = $"http://127.0.0.1:{port}";
        start.Environment["ConnectionStrings__redis"] = servers.RedisConnectionString;
        start.Environment["Internal__Token"] = "test-internal";
        start.Environment["Auth__JwtKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        foreach (var service in new[] { "settings", "tools", "chat" }) start.Environment[$"services__{service}__http__0"] = unreachable;
        start.Environment["services__settings__grpc__0"] = unreachable;
        using var gateway = Process.Start(start)!;
        gateway.OutputDataReceived += (_, _) => { };
        gateway.ErrorDataReceived += (_, _) => { };
        gateway.BeginOutputReadLine();
        gateway.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var up = Stopwatch.StartNew();
            while (true)
            {
                try { if ((await http.GetAsync("/alive")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) when (up.Elapsed < TimeSpan.FromSeconds(60) && !gateway.HasExited) { await Task.Delay(100); }
            }

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
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
        }
    }

    /// <summary>The gateway as the AppHost runs it: the build output next to this test build's (artifacts/bin/Gateway/{config}).</summary>
    private static string BuiltGateway()
    {
        var testBuild = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var path = Path.Combine(testBuild.Parent!.Parent!.FullName, "Gateway", testBuild.Name, "Gateway.dll");
        Assert.True(File.Exists(path), $"{path} is missing: build the solution first");
        return path;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
