using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiAssistant.Tests.EndToEnd;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.Content.Schema;

/// <summary><c>/collections</c>, <c>/fields</c> and <c>/relations</c> through the gateway: Directus's shapes and errors.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class SchemaApiTests(EndToEndFixture e2e)
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];

    private Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null) =>
        e2e.Gateway.SendJsonAsync(method, path, json);

    [Fact]
    public async Task Collections_fields_and_relations_are_created_read_and_deleted_in_directus_shapes()
    {
        var (authors, articles) = ($"authors_{_suffix}", $"articles_{_suffix}");
        var (status, body) = await SendAsync(HttpMethod.Post, "/collections", $$$"""
            {"collection":"{{{authors}}}","schema":{},"meta":{"note":"People"},"fields":[{"field":"name","type":"string","schema":{"max_length":80}}]}
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(authors, body!["data"]!["collection"]!.GetValue<string>());
        Assert.Equal("People", body["data"]!["meta"]!["note"]!.GetValue<string>());
        Assert.Equal(authors, body["data"]!["schema"]!["name"]!.GetValue<string>());
        await SendAsync(HttpMethod.Post, "/collections", $$$"""{"collection":"{{{articles}}}","schema":{}}""");

        (status, body) = await SendAsync(HttpMethod.Post, $"/fields/{articles}", """{"field":"author","type":"integer","meta":{"special":["m2o"],"interface":"select-dropdown-m2o"}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("integer", body!["data"]!["type"]!.GetValue<string>());
        Assert.Equal(["m2o"], body["data"]!["meta"]!["special"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.True(body["data"]!["schema"]!["is_nullable"]!.GetValue<bool>());

        (status, body) = await SendAsync(HttpMethod.Post, "/relations", $$$"""
            {"collection":"{{{articles}}}","field":"author","related_collection":"{{{authors}}}","meta":{"one_field":"articles"},"schema":{"on_delete":"CASCADE"}}
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        var relation = body!["data"]!;
        Assert.Equal((articles, "author", authors), (relation["collection"]!.GetValue<string>(), relation["field"]!.GetValue<string>(), relation["related_collection"]!.GetValue<string>()));
        Assert.Equal("articles", relation["meta"]!["one_field"]!.GetValue<string>());
        Assert.Equal(("CASCADE", "id"), (relation["schema"]!["on_delete"]!.GetValue<string>(), relation["schema"]!["foreign_key_column"]!.GetValue<string>()));

        (_, body) = await SendAsync(HttpMethod.Get, $"/fields/{articles}/author");
        Assert.Equal(authors, body!["data"]!["schema"]!["foreign_key_table"]!.GetValue<string>());
        (_, body) = await SendAsync(HttpMethod.Get, $"/fields/{authors}");
        var fields = body!["data"]!.AsArray();
        Assert.Equal(["id", "name", "articles"], fields.Select(f => f!["field"]!.GetValue<string>()));
        Assert.True(fields[0]!["schema"]!["is_primary_key"]!.GetValue<bool>() && fields[0]!["schema"]!["has_auto_increment"]!.GetValue<bool>());
        Assert.Equal(80, fields[1]!["schema"]!["max_length"]!.GetValue<int>());
        Assert.Null(fields[2]!["schema"]);
        (_, body) = await SendAsync(HttpMethod.Get, $"/relations/{articles}");
        Assert.Single(body!["data"]!.AsArray());
        (_, body) = await SendAsync(HttpMethod.Get, "/collections");
        Assert.Contains(body!["data"]!.AsArray(), c => c!["collection"]!.GetValue<string>() == authors);

        (status, body) = await SendAsync(HttpMethod.Patch, $"/collections/{authors}", """{"meta":{"icon":"person"}}""");
        Assert.Equal(("person", "People"), (body!["data"]!["meta"]!["icon"]!.GetValue<string>(), body["data"]!["meta"]!["note"]!.GetValue<string>()));
        (status, body) = await SendAsync(HttpMethod.Patch, $"/fields/{authors}/name", """{"meta":{"note":"Full name"}}""");
        Assert.Equal("Full name", body!["data"]!["meta"]!["note"]!.GetValue<string>());
        (status, body) = await SendAsync(HttpMethod.Patch, $"/relations/{articles}/author", """{"schema":{"on_delete":"SET NULL"}}""");
        Assert.Equal("SET NULL", body!["data"]!["schema"]!["on_delete"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/relations/{articles}/author")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/fields/{articles}/author")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/collections/{articles}")).Status);
        (status, body) = await SendAsync(HttpMethod.Get, $"/collections/{articles}");
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("FORBIDDEN", body!["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("GET", "/collections/missing_x", null, 403, "FORBIDDEN")]
    [InlineData("GET", "/fields/missing_x", null, 403, "FORBIDDEN")]
    [InlineData("GET", "/fields/missing_x/title", null, 403, "FORBIDDEN")]
    [InlineData("GET", "/relations/missing_x/author", null, 403, "FORBIDDEN")]
    [InlineData("PATCH", "/collections/missing_x", "{}", 403, "FORBIDDEN")]
    [InlineData("DELETE", "/fields/missing_x/title", null, 403, "FORBIDDEN")]
    [InlineData("POST", "/collections", """{"collection":"bad\"; drop table x;--","schema":{}}""", 400, "INVALID_PAYLOAD")]
    [InlineData("POST", "/collections", """{"collection":"directus_users","schema":{}}""", 400, "INVALID_PAYLOAD")]
    [InlineData("POST", "/collections", """{"collection":"x_ok","schema":{},"fields":{}}""", 400, "INVALID_PAYLOAD")]
    [InlineData("POST", "/collections", "[1]", 400, "INVALID_PAYLOAD")]
    [InlineData("POST", "/fields/missing_x", """{"field":"a","type":"nope"}""", 400, "INVALID_PAYLOAD")]
    [InlineData("POST", "/relations", """{"collection":"missing_x","field":"a","related_collection":"missing_y"}""", 400, "INVALID_PAYLOAD")]
    public async Task Bad_requests_answer_in_the_error_envelope(string method, string path, string? json, int status, string code)
    {
        var (actual, body) = await SendAsync(new HttpMethod(method), path, json);
        Assert.Equal(status, (int)actual);
        Assert.Equal(code, body!["errors"]![0]!["extensions"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_an_unsupported_media_type()
    {
        using var response = await e2e.Gateway.PostAsync("/collections", new StringContent("collection=x", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
