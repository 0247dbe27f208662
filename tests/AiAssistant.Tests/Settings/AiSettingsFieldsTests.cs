using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Settings.Settings;
using Xunit;

namespace AiAssistant.Tests.Settings;

public class AiSettingsFieldsTests
{
    private static DirectusException Rejects(string field, string json)
    {
        var e = Assert.Throws<DirectusException>(() => AiSettingsFields.Validate(field, JsonNode.Parse(json)));
        Assert.Equal(400, e.Status);
        Assert.Equal(ErrorCodes.InvalidPayload, e.Code);
        Assert.Equal(field, e.Extensions!["field"]);
        return e;
    }

    [Theory]
    [InlineData("\"ftp://host/v1\"")]
    [InlineData("\"localhost:11434\"")]
    [InlineData("\"/v1\"")]
    [InlineData("42")]
    public void Base_url_must_be_absolute_http(string json) => Rejects(AiSettingsFields.CompatibleBaseUrl, json);

    [Fact]
    public void Base_url_is_kept_without_a_trailing_slash()
    {
        var v = AiSettingsFields.Validate(AiSettingsFields.CompatibleBaseUrl, JsonNode.Parse("\"http://127.0.0.1:11434/v1/\""));
        Assert.Equal("http://127.0.0.1:11434/v1", v!.GetValue<string>());
    }

    [Theory]
    [InlineData("""[{"header":"X-A","value":"a\r\nb"}]""", "line breaks")]
    [InlineData("""[{"header":"Bad Header","value":"a"}]""", "HTTP header name")]
    [InlineData("""[{"header":"X-A","value":"1"},{"header":"x-a","value":"2"}]""", "repeats")]
    [InlineData("""[{"header":"X-A"}]""", "value")]
    [InlineData("""{"header":"X-A"}""", "list")]
    public void Headers_are_checked(string json, string expected) =>
        Assert.Contains(expected, Rejects(AiSettingsFields.CompatibleHeaders, json).Message);

    [Theory]
    [InlineData("""[{"name":"x"}]""", "id")]
    [InlineData("""[{"id":"x"}]""", "name")]
    [InlineData("""[{"id":"x","name":"X","context":0}]""", "context")]
    [InlineData("""[{"id":"x","name":"X","output":-5}]""", "output")]
    [InlineData("""[{"id":"x","name":"X","providerOptions":[1]}]""", "providerOptions")]
    public void Models_are_checked(string json, string expected) =>
        Assert.Contains(expected, Rejects(AiSettingsFields.CompatibleModels, json).Message);

    [Fact]
    public void Models_get_the_reference_defaults()
    {
        var v = (JsonArray)AiSettingsFields.Validate(AiSettingsFields.CompatibleModels, JsonNode.Parse("""[{"id":"llama3","name":"Llama 3"}]"""))!;
        Assert.Equal(128000, v[0]!["context"]!.GetValue<int>());
        Assert.Equal(16000, v[0]!["output"]!.GetValue<int>());
        Assert.False(v[0]!["reasoning"]!.GetValue<bool>());
    }

    [Fact]
    public void Wrong_types_and_oversized_prompts_are_refused()
    {
        Rejects(AiSettingsFields.CompatibleApiKey, "123");
        Rejects(AiSettingsFields.CompatibleName, "{}");
        Rejects(AiSettingsFields.SystemPrompt, "\"" + new string('x', 100_001) + "\"");
    }

    [Fact]
    public void Null_clears() => Assert.Null(AiSettingsFields.Validate(AiSettingsFields.CompatibleApiKey, null));
}

public class AiSettingsFieldsMoreTests
{
    private static string Rejects(string field, string json)
    {
        var e = Assert.Throws<DirectusException>(() => AiSettingsFields.Validate(field, JsonNode.Parse(json)));
        Assert.Equal(field, e.Extensions!["field"]);
        return e.Message;
    }

    [Fact]
    public void Allowed_models_must_be_short_non_empty_ids()
    {
        Assert.Contains("non-empty", Rejects(AiSettingsFields.OpenAiAllowed, """["gpt-5.4",""]"""));
        Assert.Contains("200", Rejects(AiSettingsFields.AnthropicAllowed, $"[\"{new string('m', 201)}\"]"));
        Assert.Contains("list", Rejects(AiSettingsFields.GoogleAllowed, "\"gemini\""));
    }

    [Fact]
    public void Mcp_switches_are_booleans() => Rejects(AiSettingsFields.McpEnabled, "\"yes\"");

    [Theory]
    [InlineData("""[{"id":"Bad Id","base_url":"http://h"}]""", "id")]
    [InlineData("""[{"id":"a"},{"id":"a"}]""", "repeats")]
    [InlineData("""[{"id":"a","secret":"x"}]""", "not a provider field")]
    [InlineData("""[{"id":"a","base_url":"gopher://h"}]""", "base_url")]
    [InlineData("""[{"id":"a","headers":[{"header":"X","value":"a\nb"}]}]""", "line breaks")]
    public void Compatible_providers_are_checked(string json, string expected) =>
        Assert.Contains(expected, Rejects(AiSettingsFields.CompatibleProviders, json));

    [Fact]
    public void A_provider_without_an_id_gets_one_from_its_name()
    {
        var list = (JsonArray)AiSettingsFields.Validate(AiSettingsFields.CompatibleProviders, JsonNode.Parse("""[{"name":"Azure OpenAI (EU)"}]"""))!;
        Assert.Equal("azure-openai-eu", list[0]!["id"]!.GetValue<string>());
    }
}
