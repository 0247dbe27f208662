using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Access;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>Reading items through the gateway: a collection made over REST, rows in its real table, Directus's query language.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class ItemsReadTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task A_filtered_sorted_paged_read_with_an_m2o_field_and_meta_counts()
    {
        var (authors, articles) = await CreateArticlesAsync();
        var query = $"/items/{articles}?fields=id,title,author.name&filter[views][_gte]=10&sort=-views&limit=2&meta=total_count,filter_count";
        var body = JsonNode.Parse(await e2e.Gateway.GetStringAsync(query))!;

        var data = body["data"]!.AsArray();
        Assert.Equal(["Third", "Second"], data.Select(i => i!["title"]!.GetValue<string>()));
        Assert.Equal("Ada", data[0]!["author"]!["name"]!.GetValue<string>());
        Assert.Null(data[0]!["views"]); // not asked for
        Assert.Equal(4, body["meta"]!["total_count"]!.GetValue<long>());
        Assert.Equal(3, body["meta"]!["filter_count"]!.GetValue<long>());

        // the same filter as JSON, and a relational filter through the m2o
        var byAuthor = JsonNode.Parse(await e2e.Gateway.GetStringAsync(
            $"/items/{articles}?fields=title&sort=title&filter=" + Uri.EscapeDataString("""{"author":{"name":{"_eq":"Grace"}}}""")))!;
        Assert.Equal(["First", "Fourth"], byAuthor["data"]!.AsArray().Select(i => i!["title"]!.GetValue<string>()));
        Assert.NotNull(authors);
    }

    [Fact]
    public async Task One_item_by_key_and_a_missing_key_is_403_as_a_forbidden_one()
    {
        var (_, articles) = await CreateArticlesAsync();
        var one = JsonNode.Parse(await e2e.Gateway.GetStringAsync($"/items/{articles}/2?fields=title"))!;
        Assert.Equal("Second", one["data"]!["title"]!.GetValue<string>());

        using var missing = await e2e.Gateway.GetAsync($"/items/{articles}/999");
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Equal("FORBIDDEN", await EndToEndFixture.ErrorCodeAsync(missing));
    }

    [Theory]
    [InlineData("filter[views][_like]=1", HttpStatusCode.BadRequest, "INVALID_QUERY")]
    [InlineData("filter={not json", HttpStatusCode.BadRequest, "INVALID_QUERY")]
    [InlineData("limit=lots", HttpStatusCode.BadRequest, "INVALID_QUERY")]
    [InlineData("filter[id][_eq]=abc", HttpStatusCode.BadRequest, "INVALID_QUERY")]
    [InlineData("fields=nope", HttpStatusCode.Forbidden, "FORBIDDEN")]
    [InlineData("fields=title%22%3B%20drop%20table%20x%3B%20--", HttpStatusCode.Forbidden, "FORBIDDEN")]
    public async Task Bad_queries_are_4xx_in_the_error_envelope_and_leave_the_table_intact(string query, HttpStatusCode status, string code)
    {
        var (_, articles) = await CreateArticlesAsync();
        using var response = await e2e.Gateway.GetAsync($"/items/{articles}?{query}");
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, await EndToEndFixture.ErrorCodeAsync(response));
        Assert.Equal(4, await e2e.ContentScalarAsync($"select count(*) from \"{articles}\""));
    }

    [Fact]
    public async Task Without_a_token_the_public_policy_reads_what_it_is_granted_and_nothing_else()
    {
        var (authors, articles) = await CreateArticlesAsync();
        using var anonymous = new HttpClient { BaseAddress = new Uri(e2e.GatewayUrl) };
        using (var unknown = await anonymous.GetAsync("/items/no_such_collection"))
            Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        using (var none = await anonymous.GetAsync($"/items/{articles}"))
            Assert.Equal(HttpStatusCode.Forbidden, none.StatusCode);

        using var granted = await e2e.Gateway.PostAsJsonAsync("/permissions", new
        {
            policy = AiAssistant.Services.Settings.Access.AccessSchema.PublicPolicyId, collection = articles, action = "read", fields = new[] { "id", "title" },
            permissions = new { views = new { _lt = 15 } },
        });
        var permissionId = (await AccessTestUsers.DataAsync(granted))["id"]!.ToString();
        try
        {
            Assert.True(await AccessTestUsers.BecomesAsync(anonymous, $"/items/{articles}", 200, TimeSpan.FromSeconds(1)), "the Public grant did not apply within a second");
            var items = JsonNode.Parse(await anonymous.GetStringAsync($"/items/{articles}?sort=id"))!["data"]!.AsArray();
            Assert.Equal(["First", "Fourth"], items.Select(i => i!["title"]!.GetValue<string>()));
            using (var field = await anonymous.GetAsync($"/items/{articles}?fields=views"))
                Assert.Equal(HttpStatusCode.Forbidden, field.StatusCode);
            using (var other = await anonymous.GetAsync($"/items/{authors}"))
                Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
            // a bad token is still a 401, not the Public policy
            using var forged = AccessTestUsers.Client(e2e.GatewayUrl, "not-a-known-token");
            using (var refused = await forged.GetAsync($"/items/{articles}"))
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        finally
        {
            using var removed = await e2e.Gateway.DeleteAsync($"/permissions/{permissionId}");
        }
    }

    [Fact]
    public async Task A_user_reads_only_the_rows_and_fields_their_policy_grants_and_a_change_applies_within_a_second()
    {
        var (authors, articles) = await CreateArticlesAsync();
        var policy = await AccessTestUsers.PolicyAsync(e2e.Gateway, app: true);
        var role = await AccessTestUsers.RoleAsync(e2e.Gateway, policy);
        var token = "st-" + Guid.NewGuid().ToString("N");
        await e2e.PostAsync("/users", new { email = AccessTestUsers.Unique("reader-") + "@example.com", password = "pw-" + Guid.NewGuid().ToString("N"), role, token });
        using var reader = AccessTestUsers.Client(e2e.GatewayUrl, token);

        // nothing granted yet: the collection is as invisible as an unknown one
        using (var none = await reader.GetAsync($"/items/{articles}"))
            Assert.Equal(HttpStatusCode.Forbidden, none.StatusCode);

        using var granted = await e2e.Gateway.PostAsJsonAsync("/permissions", new
        {
            policy, collection = articles, action = "read", fields = new[] { "id", "title", "author" },
            permissions = new { views = new { _gte = 10 } },
        });
        var permissionId = (await AccessTestUsers.DataAsync(granted))["id"]!.ToString();
        Assert.True(await AccessTestUsers.BecomesAsync(reader, $"/items/{articles}", 200, TimeSpan.FromSeconds(1)), "the grant did not apply within a second");

        var items = JsonNode.Parse(await reader.GetStringAsync($"/items/{articles}?sort=id&meta=total_count"))!;
        Assert.Equal(["Second", "Third", "Fourth"], items["data"]!.AsArray().Select(i => i!["title"]!.GetValue<string>()));
        Assert.All(items["data"]!.AsArray(), i => Assert.Null(i!["views"])); // * is the permitted fields only
        Assert.Equal(3, items["meta"]!["total_count"]!.GetValue<long>()); // rows outside the filter are not counted either
        // a field outside the grant, a row outside the filter, a related collection without a grant
        foreach (var (path, status) in new[]
                 {
                     ($"/items/{articles}?fields=views", HttpStatusCode.Forbidden),
                     ($"/items/{articles}/1", HttpStatusCode.Forbidden),
                     ($"/items/{articles}?fields=title,author.name", HttpStatusCode.Forbidden),
                     ($"/items/{authors}", HttpStatusCode.Forbidden),
                 })
        {
            using var response = await reader.GetAsync(path);
            Assert.True(response.StatusCode == status, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        // filtering on a field outside the grant cannot reveal its values
        using (var probe = await reader.GetAsync($"/items/{articles}?filter[views][_eq]=30"))
            Assert.Equal(HttpStatusCode.Forbidden, probe.StatusCode);

        using (var removed = await e2e.Gateway.DeleteAsync($"/permissions/{permissionId}"))
            Assert.True(removed.IsSuccessStatusCode);
        Assert.True(await AccessTestUsers.BecomesAsync(reader, $"/items/{articles}", 403, TimeSpan.FromSeconds(1)), "the removal did not apply within a second");
    }

    /// <summary>authors(id, name) and articles(id, title, views, author → authors) over REST, rows inserted in their tables.</summary>
    private async Task<(string Authors, string Articles)> CreateArticlesAsync()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (authors, articles) = ($"authors_{suffix}", $"articles_{suffix}");
        await e2e.PostAsync("/collections", new { collection = authors, schema = new { }, fields = new object[] { new { field = "name", type = "string" } } });
        await e2e.PostAsync("/collections", new
        {
            collection = articles, schema = new { },
            fields = new object[] { new { field = "title", type = "string" }, new { field = "views", type = "integer" }, new { field = "author", type = "integer" } },
        });
        await e2e.PostAsync("/relations", new { collection = articles, field = "author", related_collection = authors });

        await using var connection = new NpgsqlConnection(e2e.Postgres.ConnectionStringFor("content"));
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand(
            $"insert into \"{authors}\" (name) values ('Ada'), ('Grace');" +
            $"insert into \"{articles}\" (title, views, author) values ('First', 5, 2), ('Second', 20, 1), ('Third', 30, 1), ('Fourth', 10, 2)", connection);
        await insert.ExecuteNonQueryAsync();
        return (authors, articles);
    }

}
