using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AiAssistant.AppHost.Hosting;
using AiAssistant.AppHost.Resources;
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
        var layout = BuildLayout.Detect();
        var port = FreePorts.Take();
        var unreachable = $"http://127.0.0.1:{FreePorts.Take()}";
        var start = new ProcessStartInfo("dotnet", layout.AssemblyOf("Gateway", "Gateway")) { RedirectStandardOutput = true, RedirectStandardError = true };
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
            // The settings stay reachable (here: refused for want of a token, not hidden).
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/settings")).StatusCode);
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
        }
    }
}
