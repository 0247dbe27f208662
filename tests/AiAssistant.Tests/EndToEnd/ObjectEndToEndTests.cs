using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.ProviderSimulator;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// <c>POST /ai/object</c> through the gateway against each provider's simulated API: the closed schema in the provider's
/// own structured-output field, the JSON streamed back as text/plain, the ledger's row, and the refusals.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ObjectEndToEndTests(EndToEndFixture e2e)
{
    private static readonly object Schema = new
    {
        type = "object",
        properties = new { title = new { type = "string" }, author = new { type = "object", properties = new { name = new { type = "string" } } } },
        required = new[] { "title", "author" },
    };

    private const string Answer = """{"title":"Structured","author":{"name":"Ada"}}""";

    [Theory]
    [InlineData("openai", "gpt-5.4-mini", "/v1/responses")]
    [InlineData("anthropic", "claude-sonnet-4-6", "/v1/messages")]
    [InlineData("google", "gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:streamGenerateContent")]
    [InlineData("openai-compatible", "sim-model", "/v1/chat/completions")]
    public async Task A_provider_gets_the_closed_schema_and_its_json_streams_back(string provider, string model, string path)
    {
        if (provider == "openai-compatible") await e2e.UseNewKeyAsync();
        else await e2e.EnableBuiltInProviderAsync(provider, model);
        e2e.Simulator.ClearRequests();
        var prompt = "Describe a book " + Guid.NewGuid();
        e2e.Simulator.Enqueue(SimulatedReply.Text(Answer) with { Usage = new SimulatedUsage(40, 12) });

        using var response = await e2e.Gateway.PostAsJsonAsync("/ai/object", new { provider, model, prompt, outputSchema = Schema, maxOutputTokens = 512 });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /ai/object answered {(int)response.StatusCode}: {text}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Answer, text);

        var request = Assert.Single(e2e.Simulator.Requests, r => r.Body.Contains(prompt, StringComparison.Ordinal));
        Assert.StartsWith(path, request.Path);
        var body = JsonNode.Parse(request.Body)!;
        var schema = provider switch
        {
            "openai" => body["text"]!["format"]!["schema"],
            "anthropic" => body["output_config"]?["format"]?["schema"] ?? body["output_format"]?["schema"],
            "google" => body["generationConfig"]!["responseJsonSchema"],
            _ => body["response_format"]!["json_schema"]!["schema"],
        };
        Assert.True(schema is not null, $"no schema where {provider} reads it: {request.Body}");
        Assert.False(schema!["additionalProperties"]!.GetValue<bool>());
        Assert.False(schema["properties"]!["author"]!["additionalProperties"]!.GetValue<bool>());
        if (provider == "google") Assert.Equal("application/json", body["generationConfig"]!["responseMimeType"]!.GetValue<string>());
        // no system prompt: the reference sends the prompt alone
        Assert.DoesNotContain("behavior_instructions", request.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_object_turn_is_in_the_ledger()
    {
        await e2e.UseNewKeyAsync();
        var user = await Access.AccessTestUsers.UserAsync(e2e.Gateway, app: true);
        using var client = Access.AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);
        e2e.Simulator.Enqueue(SimulatedReply.Text(Answer) with { Usage = new SimulatedUsage(40, 12) });
        using (var response = await client.PostAsJsonAsync("/ai/object", new { provider = "openai-compatible", model = "sim-model", prompt = "A book", outputSchema = Schema }))
            Assert.Equal(Answer, await response.Content.ReadAsStringAsync());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await e2e.ChatScalarAsync($"select count(*) from ai_usage where \"user\" = '{user.Id}' and endpoint = 'object' and total_tokens = 52 and outcome = 'ok'") == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the object turn never reached the ledger");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Bad_input_is_a_4xx_in_the_envelope()
    {
        await e2e.UseNewKeyAsync();
        async Task Refused(object body, HttpStatusCode status, string code, string? field = null)
        {
            using var response = await e2e.Gateway.PostAsJsonAsync("/ai/object", body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{status} expected, {(int)response.StatusCode}: {text}");
            var error = JsonNode.Parse(text)!["errors"]![0]!;
            Assert.Equal(code, error["extensions"]!["code"]!.GetValue<string>());
            if (field is not null) Assert.Equal(field, error["extensions"]!["field"]!.GetValue<string>());
        }
        await Refused(new { provider = "openai-compatible", model = "sim-model", prompt = "p", outputSchema = new { type = "array" } }, HttpStatusCode.BadRequest, "INVALID_PAYLOAD", "outputSchema");
        await Refused(new { provider = "openai-compatible", model = "sim-model", prompt = "p", outputSchema = Schema, maxOutputTokens = 100 }, HttpStatusCode.BadRequest, "INVALID_PAYLOAD", "maxOutputTokens");
        await Refused(new { provider = "openai", model = "not-an-allowed-model", prompt = "p", outputSchema = Schema }, HttpStatusCode.Forbidden, "FORBIDDEN");
        await Refused(new { provider = "openai-compatible:nowhere", model = "m", prompt = "p", outputSchema = Schema }, HttpStatusCode.ServiceUnavailable, "SERVICE_UNAVAILABLE");
        // a provider that refuses before its first token: an envelope, not a 200 with nothing in it
        e2e.Simulator.Enqueue(SimulatedReply.Error(400, "Invalid schema for response_format"));
        await Refused(new { provider = "openai-compatible", model = "sim-model", prompt = "p", outputSchema = Schema }, HttpStatusCode.BadGateway, "SERVICE_UNAVAILABLE");
    }
}
