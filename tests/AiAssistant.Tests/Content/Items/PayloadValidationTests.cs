using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Query;
using Xunit;

namespace AiAssistant.Tests.Content.Items;

/// <summary>A permission's validation judged in memory on the values being written, with Directus's error shape.</summary>
public sealed class PayloadValidationTests
{
    private static readonly QueryContext Context = new("8d3f0c1e-0000-4000-8000-000000000001", null, [], [], TimeProvider.System);

    [Theory]
    [InlineData("""{"status":{"_eq":"draft"}}""", """{"status":"draft"}""", null)]
    [InlineData("""{"status":{"_eq":"draft"}}""", """{"status":"live"}""", "eq")]
    [InlineData("""{"status":{"_neq":"live"}}""", """{"status":"live"}""", "neq")]
    [InlineData("""{"views":{"_lt":10}}""", """{"views":9}""", null)]
    [InlineData("""{"views":{"_lt":10}}""", """{"views":10}""", "lt")]
    [InlineData("""{"views":{"_lte":10}}""", """{"views":"10"}""", null)]
    [InlineData("""{"views":{"_gt":10}}""", """{"views":2}""", "gt")]
    [InlineData("""{"views":{"_gte":10}}""", """{}""", "gte")]
    [InlineData("""{"status":{"_in":["a","b"]}}""", """{"status":"b"}""", null)]
    [InlineData("""{"status":{"_in":["a","b"]}}""", """{"status":"c"}""", "in")]
    [InlineData("""{"status":{"_nin":["a","b"]}}""", """{"status":"a"}""", "nin")]
    [InlineData("""{"note":{"_null":true}}""", """{"note":"x"}""", "null")]
    [InlineData("""{"title":{"_nnull":true}}""", """{"title":null}""", "nnull")]
    [InlineData("""{"title":{"_contains":"dot"}}""", """{"title":"a dot here"}""", null)]
    [InlineData("""{"title":{"_starts_with":"A"}}""", """{"title":"Bee"}""", "starts_with")]
    [InlineData("""{"title":{"_ends_with":"!"}}""", """{"title":"Hi!"}""", null)]
    [InlineData("""{"tags":{"_empty":true}}""", """{"tags":[]}""", null)]
    [InlineData("""{"title":{"_nempty":true}}""", """{"title":""}""", "nempty")]
    [InlineData("""{"owner":{"_eq":"$CURRENT_USER"}}""", """{"owner":"8d3f0c1e-0000-4000-8000-000000000001"}""", null)]
    [InlineData("""{"_and":[{"views":{"_gte":0}},{"status":{"_eq":"draft"}}]}""", """{"views":1,"status":"live"}""", "eq")]
    [InlineData("""{"_or":[{"views":{"_gte":100}},{"status":{"_eq":"draft"}}]}""", """{"views":1,"status":"draft"}""", null)]
    [InlineData("""{"_or":[{"views":{"_gte":100}},{"status":{"_eq":"draft"}}]}""", """{"views":1,"status":"live"}""", "gte")]
    public void A_created_item_passes_or_fails_with_the_rule_named(string validation, string values, string? failedType)
    {
        var filter = FilterParser.Parse(JsonNode.Parse(validation), "validation");
        var check = () => PayloadValidation.Check(filter, JsonNode.Parse(values)!.AsObject(), creating: true, Context);
        if (failedType is null)
        {
            check();
            return;
        }
        var error = Assert.Throws<DirectusException>(check);
        Assert.Equal((400, "FAILED_VALIDATION"), (error.Status, error.Code));
        Assert.Equal(failedType, error.Extensions!["type"]);
        Assert.StartsWith($"Validation failed for field \"{error.Extensions["field"]}\".", error.Message);
    }

    [Fact]
    public void An_update_is_judged_on_the_fields_it_writes_only()
    {
        var filter = FilterParser.Parse(JsonNode.Parse("""{"title":{"_nnull":true},"views":{"_gte":0}}"""), "validation");
        PayloadValidation.Check(filter, JsonNode.Parse("""{"views":3}""")!.AsObject(), creating: false, Context);
        var error = Assert.Throws<DirectusException>(() =>
            PayloadValidation.Check(filter, JsonNode.Parse("""{"views":-3}""")!.AsObject(), creating: false, Context));
        Assert.Equal("Validation failed for field \"views\". Value has to be greater than or equal to 0.", error.Message);
    }
}
