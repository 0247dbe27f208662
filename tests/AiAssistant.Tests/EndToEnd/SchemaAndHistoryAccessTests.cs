using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Access;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// What a non-admin sees of the schema (<c>/collections</c>, <c>/fields</c>, <c>/relations</c>) and of the history
/// (<c>/activity</c>, <c>/revisions</c>): only what its permissions let it read, a hidden collection as unknown.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class SchemaAndHistoryAccessTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task A_user_sees_the_collections_fields_and_relations_it_may_read_and_nothing_else()
    {
        var (authors, articles, secrets, folder) = await CreateSchemaAsync();
        var (reader, policy) = await UserAsync(app: true);

        Assert.DoesNotContain(await NamesAsync(reader, "/collections", "collection"), n => n == articles || n == authors || n == secrets || n == folder);
        await GrantAsync(policy, articles, "read", ["id", "title", "author"]);
        Assert.True(await AccessTestUsers.BecomesAsync(reader, $"/collections/{articles}", 200, TimeSpan.FromSeconds(1)), "the grant did not apply within a second");

        var collections = await NamesAsync(reader, "/collections", "collection");
        Assert.Contains(articles, collections);
        Assert.Contains(folder, collections); // the folder holding a readable collection keeps its grouping
        Assert.DoesNotContain(authors, collections);
        Assert.DoesNotContain(secrets, collections);
        Assert.Equal(["author", "id", "title"], (await NamesAsync(reader, $"/fields/{articles}", "field")).Order());
        Assert.DoesNotContain(await NamesAsync(reader, "/fields", "collection"), c => c == secrets || c == authors);
        foreach (var path in new[] { $"/collections/{secrets}", $"/fields/{secrets}", $"/fields/{articles}/views", $"/relations/{authors}", "/collections/no_such_collection" })
        {
            using var hidden = await reader.GetAsync(path);
            Assert.True(hidden.StatusCode == HttpStatusCode.Forbidden, $"{path}: {(int)hidden.StatusCode}");
            Assert.Equal("FORBIDDEN", await EndToEndFixture.ErrorCodeAsync(hidden));
        }
        // a relation shows once both of its sides do
        Assert.Empty(await NamesAsync(reader, $"/relations/{articles}", "field"));
        await GrantAsync(policy, authors, "read", ["*"]);
        Assert.True(await AccessTestUsers.BecomesAsync(reader, $"/relations/{articles}/author", 200, TimeSpan.FromSeconds(1)), "the second grant did not apply within a second");
        Assert.Equal(["author"], await NamesAsync(reader, $"/relations/{articles}", "field"));

        // the same for the admin: everything
        Assert.Contains(secrets, await NamesAsync(e2e.Gateway, "/collections", "collection"));
        Assert.Contains("views", await NamesAsync(e2e.Gateway, $"/fields/{articles}", "field"));
    }

    [Fact]
    public async Task A_user_reads_its_own_activity_and_only_the_revisions_it_could_read_whole()
    {
        var (authors, articles, _, _) = await CreateSchemaAsync();
        var (writer, policy) = await UserAsync(app: true);
        await GrantAsync(policy, authors, "create", ["*"]);
        await GrantAsync(policy, authors, "read", ["*"]);
        await GrantAsync(policy, articles, "create", ["*"]);
        await GrantAsync(policy, articles, "read", ["id", "title"]); // not every field: its revisions would show the others
        await e2e.PostAsync($"/items/{authors}", new { name = "By the admin" });
        Assert.True(await BecomesAsync(() => writer.PostAsJsonAsync($"/items/{authors}", new { name = "By the writer" })), "the create grant did not apply");
        using (var article = await writer.PostAsJsonAsync($"/items/{articles}", new { title = "Mine", views = 3 }))
            Assert.True(article.IsSuccessStatusCode, await article.Content.ReadAsStringAsync());

        var activity = await DataAsync(writer, $"/activity?fields=collection,action,user&filter[collection][_in]={authors},{articles}&sort=id");
        var writerId = JsonNode.Parse(await writer.GetStringAsync("/users/me"))!["data"]!["id"]!.GetValue<string>();
        Assert.Equal([authors, articles], activity.Select(a => a!["collection"]!.GetValue<string>()));
        Assert.All(activity, a => Assert.Equal(writerId, a!["user"]!.GetValue<string>()));

        var revisions = await DataAsync(writer, $"/revisions?fields=collection,data,activity.user&filter[collection][_in]={authors},{articles}");
        var only = Assert.Single(revisions);
        Assert.Equal(authors, only!["collection"]!.GetValue<string>());
        Assert.Equal("By the writer", only["data"]!["name"]!.GetValue<string>());
        Assert.Equal(writerId, only["activity"]!["user"]!.GetValue<string>());

        // the admin sees both users' rows
        Assert.Equal(3, (await DataAsync(e2e.Gateway, $"/activity?filter[collection][_in]={authors},{articles}")).Count);

        // without app access, and without a token: no history at all
        var (apiOnly, _) = await UserAsync(app: false);
        using (var refused = await apiOnly.GetAsync("/activity"))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null);
        using (var refused = await anonymous.GetAsync("/revisions"))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    /// <summary>A folder holding authors(name) and articles(title, views, author → authors), and an unrelated secrets(code).</summary>
    private async Task<(string Authors, string Articles, string Secrets, string Folder)> CreateSchemaAsync()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (authors, articles, secrets, folder) = ($"authors_{suffix}", $"articles_{suffix}", $"secrets_{suffix}", $"blog_{suffix}");
        await e2e.PostAsync("/collections", new { collection = folder });
        await e2e.PostAsync("/collections", new { collection = authors, schema = new { }, meta = new { group = folder }, fields = new object[] { new { field = "name", type = "string" } } });
        await e2e.PostAsync("/collections", new
        {
            collection = articles, schema = new { }, meta = new { group = folder },
            fields = new object[] { new { field = "title", type = "string" }, new { field = "views", type = "integer" }, new { field = "author", type = "integer" } },
        });
        await e2e.PostAsync("/relations", new { collection = articles, field = "author", related_collection = authors });
        await e2e.PostAsync("/collections", new { collection = secrets, schema = new { }, fields = new object[] { new { field = "code", type = "string" } } });
        return (authors, articles, secrets, folder);
    }

    private async Task<(HttpClient Client, string Policy)> UserAsync(bool app)
    {
        var (_, policy, client) = await AccessTestUsers.GrantableUserAsync(e2e.Gateway, e2e.GatewayUrl, app);
        return (client, policy);
    }

    private async Task GrantAsync(string policy, string collection, string action, string[] fields) =>
        await e2e.PostAsync("/permissions", new { policy, collection, action, fields });

    private static async Task<JsonArray> DataAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return (await AccessTestUsers.DataAsync(response)).AsArray();
    }

    private static async Task<List<string>> NamesAsync(HttpClient client, string path, string key) =>
        (await DataAsync(client, path)).Select(n => n![key]!.GetValue<string>()).ToList();

    /// <summary>Retries a write a new grant admits until it succeeds (grants apply within a second).</summary>
    private static async Task<bool> BecomesAsync(Func<Task<HttpResponseMessage>> send)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            using var response = await send();
            if (response.IsSuccessStatusCode) return true;
            await Task.Delay(25);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(2));
        return false;
    }
}
