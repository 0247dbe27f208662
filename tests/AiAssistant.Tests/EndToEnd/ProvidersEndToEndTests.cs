using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.ProviderSimulator;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>The built-in providers through the gateway, each reaching the simulator by the base URL the AppHost passed on.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class ProvidersEndToEndTests(EndToEndFixture e2e)
{
    [Theory]
    [InlineData("anthropic", "claude-sonnet-4-6", "x-api-key", "/v1/messages")]
    [InlineData("google", "gemini-2.5-flash", "x-goog-api-key", "/v1beta/models/gemini-2.5-flash:streamGenerateContent")]
    [InlineData("openai", "gpt-5.4-mini", "Authorization", "/v1/responses")]
    public async Task A_built_in_provider_streams_a_turn_with_its_own_key_header(string provider, string model, string header, string path)
    {
        var key = e2e.NewKey();
        // the model joins the allowed ones, which other tests rely on
        var settings = JsonNode.Parse(await e2e.Gateway.GetStringAsync("/settings"))!["data"]!;
        var allowed = (settings[$"ai_{provider}_allowed_models"] as JsonArray)?.Select(m => m!.GetValue<string>()).ToList() ?? [];
        await e2e.PatchSettingsAsync(new Dictionary<string, object>
        {
            [$"ai_{provider}_api_key"] = key,
            [$"ai_{provider}_allowed_models"] = allowed.Append(model).Distinct().ToArray(),
        });
        var body = new
        {
            provider, model, tools = Array.Empty<string>(),
            messages = new[] { new { id = "m1", role = "user", parts = new[] { new { type = "text", text = "Hello " + provider } } } },
        };
        // every replica has the key once each answers the turn (a replica without it yet answers 503)
        foreach (var replica in e2e.ChatReplicas)
        {
            using var direct = e2e.Client(replica.HttpUrl);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            HttpStatusCode status;
            do
            {
                e2e.Simulator.Enqueue(SimulatedReply.Text("Ready."));
                using var probe = await direct.PostAsJsonAsync("/ai/chat", body);
                status = probe.StatusCode;
                await probe.Content.ReadAsStringAsync();
            }
            while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);
            Assert.Equal(HttpStatusCode.OK, status);
        }
        e2e.Simulator.ClearReplies();

        e2e.Simulator.ClearRequests();
        e2e.Simulator.Enqueue(SimulatedReply.Text($"Hello from {provider}.") with { Usage = new SimulatedUsage(500, 4, CachedTokens: 200) });
        var stream = await EndToEndFixture.ChatAsync(e2e.Gateway, body);

        Assert.True(stream.Done);
        Assert.Equal($"Hello from {provider}.", stream.Text);
        Assert.Equal(["finish", "data-usage"], stream.Types.TakeLast(2));
        Assert.Equal(200, stream.Single("data-usage")["data"]!["cacheReadTokens"]!.GetValue<int>());
        var request = Assert.Single(e2e.Simulator.Requests);
        Assert.StartsWith(path, request.Path);
        Assert.Equal(header == "Authorization" ? $"Bearer {key}" : key, request.Headers[header]);
        Assert.DoesNotContain(request.Headers, h => h.Key != header && h.Value.Contains(key[8..], StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_browser_that_stops_reading_closes_the_provider_request()
    {
        await e2e.UseNewKeyAsync();
        e2e.Simulator.ClearRequests();
        e2e.Simulator.Enqueue(SimulatedReply.Text(string.Join(' ', Enumerable.Repeat("slowly", 300))).WithPacing(Pacing.FromMilliseconds(0, 50)));
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/ai/chat") { Content = JsonContent.Create(EndToEndFixture.ChatBody("Tell me a long story")) })
        using (var response = await e2e.Gateway.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line && !line.Contains("text-delta", StringComparison.Ordinal)) { }
        }
        // the browser is gone (the gateway's connection closed): the gateway, then Chat, let go of the provider
        var upstream = Assert.Single(await e2e.Simulator.WaitForRequestsAsync(1));
        Assert.True(await upstream.ClosedByClient.WaitAsync(TimeSpan.FromSeconds(10)), "the provider request ran on after the browser left");
    }
}
