using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Settings.Access;
using Xunit;

namespace AiAssistant.Tests.Access;

public sealed class PermissionRulesTests
{
    [Theory]
    [InlineData("""{"author":{"_eq":"$CURRENT_USER"}}""")]
    [InlineData("""{"_and":[{"status":{"_in":["draft","review"]}},{"_or":[{"owner":{"_eq":"$CURRENT_USER.id"}},{"team":{"_eq":"$CURRENT_ROLE"}}]}]}""")]
    [InlineData("""{"author":{"role":{"name":{"_eq":"Editors"}}}}""")]
    [InlineData("""{"published_on":{"_lte":"$NOW(-1 day)"}}""")]
    [InlineData("""{"comments":{"_some":{"approved":{"_eq":true}}}}""")]
    [InlineData("""{"deleted_at":{"_null":true}}""")]
    [InlineData("{}")]
    public void Valid_filters_pass(string filter) => Assert.Null(PermissionRules.FilterProblem(JsonNode.Parse(filter)));

    [Theory]
    [InlineData("[]", "must be an object")]
    [InlineData("""{"author":{"_equals":1}}""", "_equals")]
    [InlineData("""{"_and":{"a":{"_eq":1}}}""", "_and")]
    [InlineData("""{"_xor":[]}""", "_xor")]
    [InlineData("""{"author":5}""", "author")]
    [InlineData("""{"author":{"_eq":1,"name":{"_eq":2}}}""", "mixes")]
    [InlineData("""{"status":{"_in":5}}""", "_in")]
    [InlineData("""{"deleted_at":{"_null":"yes"}}""", "_null")]
    [InlineData("""{"owner":{"_eq":"$CURRENT_PERSON"}}""", "$CURRENT_PERSON")]
    public void Invalid_filters_say_why(string filter, string mentioned) =>
        Assert.Contains(mentioned, PermissionRules.FilterProblem(JsonNode.Parse(filter)));

    [Fact]
    public void An_unknown_action_names_the_field_with_its_prefix()
    {
        var e = Assert.Throws<DirectusException>(() =>
            PermissionRules.Parse((JsonObject)JsonNode.Parse("""{"collection":"a","action":"publish"}""")!, "permissions[2]."));
        Assert.Equal("permissions[2].action", e.Extensions!["field"]);
    }
}
