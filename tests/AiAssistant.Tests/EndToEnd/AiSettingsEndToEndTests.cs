using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts.Settings;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>Settings → AI as chat and the catalog see it: allowed models, providers with and without keys, server info.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class AiSettingsEndToEndTests(EndToEndFixture e2e)
{
    private static object Body(string provider, string model) => new
    {
        provider, model, tools = Array.Empty<string>(),
        messages = new[] { new { id = "m1", role = "user", parts = new[] { new { type = "text", text = "Hello" } } } },
    };

    private Task<(HttpStatusCode Status, JsonNode? Error)> ChatStatusAsync(string provider, string model) =>
        ChatStatusAsync(e2e.Gateway, provider, model);

    private static async Task<(HttpStatusCode Status, JsonNode? Error)> ChatStatusAsync(HttpClient client, string provider, string model)
    {
        using var response = await client.PostAsJsonAsync("/ai/chat", Body(provider, model));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? null : JsonNode.Parse(text)!["errors"]![0]);
    }

    [Fact]
    public async Task The_openai_provider_uses_its_key_only_for_allowed_models()
    {
        var key = e2e.NewKey();
        await e2e.PatchSettingsAsync(new { ai_openai_api_key = key, ai_openai_allowed_models = new[] { "gpt-5.4-mini", "my-finetune" } });

        // Not in the allowed list: 403 with the reference's reason, on every replica once it has the new settings.
        foreach (var replica in e2e.ChatReplicas)
        {
            using var direct = e2e.Client(replica.HttpUrl);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            (HttpStatusCode Status, JsonNode? Error) refused;
            do refused = await ChatStatusAsync(direct, "openai", "gpt-5.4");
            while (refused.Status != HttpStatusCode.Forbidden && DateTime.UtcNow < deadline);
            Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
            Assert.Equal("Model not allowed for this provider", refused.Error!["message"]!.GetValue<string>());
        }

        e2e.Simulator.ClearRequests();
        var stream = await EndToEndFixture.ChatAsync(e2e.Gateway, Body("openai", "my-finetune"));
        Assert.True(stream.Done);
        Assert.True(!stream.Types.Contains("error"), stream.Chunks.LastOrDefault()?.ToJsonString());
        var request = Assert.Single(e2e.Simulator.Requests);
        Assert.Equal($"Bearer {key}", request.Headers["Authorization"]);
        Assert.Contains("\"model\":\"my-finetune\"", request.Body);

        // The catalog shows the allowed models with the built-in definition, or the generic one for custom ids.
        var models = JsonNode.Parse(await e2e.Gateway.GetStringAsync("/ai/models"))!["data"]!.AsArray();
        var known = models.Single(m => m!["provider"]!.GetValue<string>() == "openai" && m["model"]!.GetValue<string>() == "gpt-5.4-mini")!;
        Assert.Equal(400000, known["limit"]!["context"]!.GetValue<int>());
        Assert.Equal(0.75, known["cost"]!["input"]!.GetValue<double>());
        var custom = models.Single(m => m!["model"]!.GetValue<string>() == "my-finetune")!;
        Assert.Equal(128000, custom["limit"]!["context"]!.GetValue<int>());
        Assert.DoesNotContain(models, m => m!["model"]!.GetValue<string>() == "gpt-5.4");

        var info = JsonNode.Parse(await e2e.Gateway.GetStringAsync("/server/info"))!["data"]!;
        Assert.True(info["ai_enabled"]!.GetValue<bool>());
        Assert.Contains("openai", info["ai_providers"]!.AsArray().Select(p => p!.GetValue<string>()));
    }

    [Fact]
    public async Task A_provider_without_a_key_is_503_and_an_empty_allowed_list_allows_nothing()
    {
        await e2e.PatchSettingsAsync(new { ai_anthropic_api_key = (string?)null, ai_google_allowed_models = Array.Empty<string>() });
        foreach (var replica in e2e.ChatReplicas)
        {
            using var direct = e2e.Client(replica.HttpUrl);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            (HttpStatusCode Status, JsonNode? Error) noKey, notAllowed;
            do
            {
                noKey = await ChatStatusAsync(direct, "anthropic", "claude-haiku-4-5");
                notAllowed = await ChatStatusAsync(direct, "google", "gemini-2.5-flash");
            }
            while ((noKey.Status != HttpStatusCode.ServiceUnavailable || notAllowed.Status != HttpStatusCode.Forbidden) && DateTime.UtcNow < deadline);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, noKey.Status);
            Assert.Equal("SERVICE_UNAVAILABLE", noKey.Error!["extensions"]!["code"]!.GetValue<string>());
            Assert.Equal("anthropic", noKey.Error!["extensions"]!["service"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.Forbidden, notAllowed.Status);
        }
    }

    [Fact]
    public async Task A_custom_system_prompt_replaces_the_default_and_a_blank_one_restores_it()
    {
        await e2e.UseNewKeyAsync();
        async Task<string> SystemMessageSentAsync()
        {
            e2e.Simulator.ClearRequests();
            await EndToEndFixture.ChatAsync(e2e.Gateway, EndToEndFixture.ChatBody("Hello"));
            var body = JsonNode.Parse(e2e.Simulator.Requests.Single().Body)!;
            var system = body["messages"]!.AsArray().Single(m => m!["role"]!.GetValue<string>() == "system")!["content"]!.GetValue<string>();
            // the prompt, then the context block, which always carries the date
            var context = system.IndexOf("\n\n<user_context>\n", StringComparison.Ordinal);
            Assert.True(context >= 0, "no context block after the system prompt: " + system);
            Assert.Contains("## Current Date\n" + DateTime.UtcNow.ToString("yyyy-MM-dd"), system[context..]);
            return system[..context];
        }
        async Task<string> EventuallyAsync(Func<string, bool> done)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            string seen;
            do seen = await SystemMessageSentAsync();
            while (!done(seen) && DateTime.UtcNow < deadline);
            return seen;
        }

        await e2e.PatchSettingsAsync(new { ai_system_prompt = "You answer in haiku." });
        Assert.Equal("You answer in haiku.", await EventuallyAsync(p => p == "You answer in haiku."));

        await e2e.PatchSettingsAsync(new { ai_system_prompt = "" });
        Assert.Equal(AiAssistant.Services.Chat.Chat.SystemPrompt.Default, await EventuallyAsync(p => p != "You answer in haiku."));
    }

    [Fact]
    public async Task GetAiConfig_refuses_a_user_token_and_answers_the_service_credential()
    {
        using var channel = GrpcChannel.ForAddress(e2e.SettingsGrpcUrl);
        var grpc = new AiSettings.AiSettingsClient(channel);
        var asUser = new Metadata { { "authorization", $"Bearer {e2e.AdminToken}" } };
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            grpc.GetAiConfigAsync(new GetAiConfigRequest(), asUser, DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);

        var asService = new Metadata { { "authorization", $"Bearer {e2e.InternalToken}" } };
        var config = await grpc.GetAiConfigAsync(new GetAiConfigRequest(), asService, DateTime.UtcNow.AddSeconds(30));
        Assert.True(config.Version > 0);
        Assert.Contains(config.Providers, p => p.Id == "openai");
    }
}
