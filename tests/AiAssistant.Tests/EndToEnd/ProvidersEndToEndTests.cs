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
        var key = await e2e.EnableBuiltInProviderAsync(provider, model);
        var body = EndToEndFixture.ChatBody(provider, model, "Hello " + provider);
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
