using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Chat;
using Xunit;

namespace AiAssistant.Tests.Chat;

/// <summary>The body of <c>POST /ai/object</c>: what is refused, and the schema closed at every object node.</summary>
public sealed class ObjectRequestTests
{
    private const string Schema = """{"type":"object","properties":{"title":{"type":"string"}},"required":["title"]}""";

    private static ObjectRequest Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return ObjectRequest.Parse(doc.RootElement);
    }

    [Theory]
    [InlineData("""{"provider":"openai","model":"m","prompt":"p","outputSchema":{"type":"array","items":{"type":"string"}}}""", "outputSchema")]
    [InlineData("""{"provider":"openai","model":"m","prompt":"p","outputSchema":{"type":"string"}}""", "outputSchema")]
    [InlineData("""{"provider":"openai","model":"m","prompt":"p","outputSchema":"object"}""", "outputSchema")]
    [InlineData("""{"provider":"openai","model":"m","prompt":"p"}""", "outputSchema")]
    [InlineData("""{"provider":"openai","model":"m","prompt":"p","outputSchema":{"$schema":5,"type":"object"}}""", "outputSchema")]
    [InlineData("""{"provider":"openai","model":"m","prompt":"p","outputSchema":{"type":"object"},"maxOutputTokens":255}""", "maxOutputTokens")]
    [InlineData("""{"provider":"openai","model":"m","prompt":"p","outputSchema":{"type":"object"},"maxOutputTokens":"1000"}""", "maxOutputTokens")]
    [InlineData("""{"provider":"openai","model":"m","prompt":"p","outputSchema":{"type":"object"},"maxOutputTokens":300.5}""", "maxOutputTokens")]
    [InlineData("""{"provider":"openai","model":"m","prompt":"","outputSchema":{"type":"object"}}""", "prompt")]
    [InlineData("""{"provider":"acme","model":"m","prompt":"p","outputSchema":{"type":"object"}}""", "provider")]
    [InlineData("""{"provider":"openai","prompt":"p","outputSchema":{"type":"object"}}""", "model")]
    public void Bad_input_is_a_400_naming_the_field(string json, string field)
    {
        var e = Assert.Throws<DirectusException>(() => Parse(json));
        Assert.Equal(400, e.Status);
        Assert.Equal(field, e.Extensions!["field"]);
    }

    [Fact]
    public void The_smallest_output_limit_is_taken()
    {
        var request = Parse($$"""{"provider":"google","model":"m","prompt":"p","outputSchema":{{Schema}},"maxOutputTokens":256}""");
        Assert.Equal(256, request.MaxOutputTokens);
        Assert.Null(Parse($$"""{"provider":"google","model":"m","prompt":"p","outputSchema":{{Schema}}}""").MaxOutputTokens);
    }

    [Fact]
    public void Every_object_node_is_closed()
    {
        var request = Parse("""
            {"provider":"openai","model":"m","prompt":"p","outputSchema":{
              "type":"object","additionalProperties":true,
              "properties":{
                "author":{"type":"object","properties":{"name":{"type":"string"}}},
                "tags":{"type":"array","items":{"type":"object","properties":{"label":{"type":"string"}}}},
                "either":{"anyOf":[{"type":"object","properties":{"a":{"type":"number"}}},{"type":"string"}]},
                "untyped":{"properties":{"x":{"type":"string"}}},
                "nullable":{"type":["object","null"],"properties":{}}
              },
              "$defs":{"ref":{"type":"object"}}}}
            """);
        var schema = JsonNode.Parse(request.OutputSchema.GetRawText())!;
        Assert.False(schema["additionalProperties"]!.GetValue<bool>());
        var p = schema["properties"]!;
        Assert.False(p["author"]!["additionalProperties"]!.GetValue<bool>());
        Assert.False(p["tags"]!["items"]!["additionalProperties"]!.GetValue<bool>());
        Assert.Null(p["tags"]!["additionalProperties"]); // an array is not an object node
        Assert.False(p["either"]!["anyOf"]![0]!["additionalProperties"]!.GetValue<bool>());
        Assert.Null(p["either"]!["anyOf"]![1]!["additionalProperties"]);
        Assert.Equal("object", p["untyped"]!["type"]!.GetValue<string>());
        Assert.False(p["untyped"]!["additionalProperties"]!.GetValue<bool>());
        Assert.False(p["nullable"]!["additionalProperties"]!.GetValue<bool>());
        Assert.False(schema["$defs"]!["ref"]!["additionalProperties"]!.GetValue<bool>());
        Assert.Null(p["author"]!["properties"]!["name"]!["additionalProperties"]);
    }
}
