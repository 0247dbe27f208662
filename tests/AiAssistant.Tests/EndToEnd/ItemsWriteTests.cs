using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Access;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// Writing items through the gateway: creates, updates and deletes in Directus's shapes, one transaction per request
/// with its activity and revisions, PostgreSQL's refusals as Directus's 400s, and the create/update/delete grants.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ItemsWriteTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task Creating_one_and_many_answers_them_read_back_and_records_activity_and_revisions()
    {
        var (_, articles) = await CreateArticlesAsync();
        using var one = await e2e.Gateway.PostAsJsonAsync($"/items/{articles}?fields=id,title", new { title = "First", views = 5 });
        var created = await AccessTestUsers.DataAsync(one);
        Assert.Equal("First", created["title"]!.GetValue<string>());
        Assert.Null(created["views"]); // ?fields= applies to the answer
        var firstId = created["id"]!.GetValue<long>();

        using var many = await e2e.Gateway.PostAsJsonAsync($"/items/{articles}", new object[]
        {
            new { title = "Second", views = 20 }, new { title = "Third", views = 30 }, new { title = "Fourth", views = 10 },
        });
        var list = (await AccessTestUsers.DataAsync(many)).AsArray();
        Assert.Equal(["Fourth", "Second", "Third"], list.Select(i => i!["title"]!.GetValue<string>()).Order());
        Assert.Equal(["First", "Fourth", "Second", "Third"], await TitlesAsync(articles));

        var activity = await ListAsync($"/activity?filter[collection][_eq]={articles}&sort=id");
        Assert.Equal(4, activity.Count);
        Assert.All(activity, a => Assert.Equal("create", a!["action"]!.GetValue<string>()));
        var admin = await UserIdAsync(e2e.Gateway);
        Assert.All(activity, a => Assert.Equal(admin, a!["user"]!.GetValue<string>()));
        Assert.Equal(firstId.ToString(System.Globalization.CultureInfo.InvariantCulture), activity[0]!["item"]!.GetValue<string>());

        var revisions = await ListAsync($"/revisions?filter[collection][_eq]={articles}&sort=id&fields=*,activity.action");
        Assert.Equal(4, revisions.Count);
        Assert.Equal("First", revisions[0]!["data"]!["title"]!.GetValue<string>());
        Assert.Equal(5, revisions[0]!["delta"]!["views"]!.GetValue<int>());
        Assert.Equal("create", revisions[0]!["activity"]!["action"]!.GetValue<string>());
    }

    [Fact]
    public async Task Updating_one_by_keys_by_query_and_as_a_batch_changes_those_rows_only_with_a_revision_of_the_delta()
    {
        var (_, articles) = await CreateArticlesAsync();
        var ids = await SeedAsync(articles);

        // an admin's unknown field is ignored, as Directus writes only the fields a collection has
        using (var one = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}/{ids[0]}?fields=title,views", new { title = "Renamed", no_such_field = 1 }))
        {
            var data = await AccessTestUsers.DataAsync(one);
            Assert.Equal("Renamed", data["title"]!.GetValue<string>());
            Assert.Equal(5, data["views"]!.GetValue<int>()); // untouched fields keep their values
        }
        using (var byKeys = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}", new { keys = new[] { ids[1], ids[2] }, data = new { status = "published" } }))
            Assert.Equal(2, (await AccessTestUsers.DataAsync(byKeys)).AsArray().Count);
        using (var byQuery = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}", new { query = new { filter = new { views = new { _gte = 30 } } }, data = new { status = "top" } }))
            Assert.Single((await AccessTestUsers.DataAsync(byQuery)).AsArray());
        using (var batch = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}", new object[] { new { id = ids[3], views = 11 }, new { id = ids[0], views = 6 } }))
            Assert.Equal(2, (await AccessTestUsers.DataAsync(batch)).AsArray().Count);

        var rows = await RowsAsync(articles);
        Assert.Equal(Row("Renamed", 6, null), rows[ids[0]]);
        Assert.Equal(Row("Second", 20, "published"), rows[ids[1]]);
        Assert.Equal(Row("Third", 30, "top"), rows[ids[2]]);
        Assert.Equal(Row("Fourth", 11, null), rows[ids[3]]);

        var updates = await ListAsync($"/activity?filter[collection][_eq]={articles}&filter[action][_eq]=update&sort=id");
        Assert.Equal(6, updates.Count);
        var revision = (await ListAsync($"/revisions?filter[collection][_eq]={articles}&filter[item][_eq]={ids[0]}&sort=-id&limit=2"));
        Assert.Equal("""{"views":6}""", revision[0]!["delta"]!.ToJsonString());
        Assert.Equal("Renamed", revision[0]!["data"]!["title"]!.GetValue<string>()); // the whole item after the change
        Assert.Equal("""{"title":"Renamed"}""", revision[1]!["delta"]!.ToJsonString());
    }

    [Fact]
    public async Task Deleting_by_key_by_keys_and_by_query_answers_204_and_records_the_deletes()
    {
        var (_, articles) = await CreateArticlesAsync();
        var ids = await SeedAsync(articles);

        using (var byKey = await e2e.Gateway.DeleteAsync($"/items/{articles}/{ids[0]}"))
            Assert.Equal(HttpStatusCode.NoContent, byKey.StatusCode);
        using (var byKeys = await SendAsync(e2e.Gateway, HttpMethod.Delete, $"/items/{articles}", new[] { ids[1] }))
            Assert.Equal(HttpStatusCode.NoContent, byKeys.StatusCode);
        using (var byQuery = await SendAsync(e2e.Gateway, HttpMethod.Delete, $"/items/{articles}", new { query = new { filter = new { views = new { _eq = 30 } } } }))
            Assert.Equal(HttpStatusCode.NoContent, byQuery.StatusCode);
        Assert.Equal(["Fourth"], await TitlesAsync(articles));
        using (var keysObject = await SendAsync(e2e.Gateway, HttpMethod.Delete, $"/items/{articles}", new { keys = new[] { ids[3] } }))
            Assert.Equal(HttpStatusCode.NoContent, keysObject.StatusCode);
        Assert.Empty(await TitlesAsync(articles));

        var deletes = await ListAsync($"/activity?filter[collection][_eq]={articles}&filter[action][_eq]=delete&sort=id");
        Assert.Equal(ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), deletes.Select(d => d!["item"]!.GetValue<string>()));
        // deleting a key that is not there is refused like a forbidden one
        using var missing = await e2e.Gateway.DeleteAsync($"/items/{articles}/{ids[0]}");
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
    }

    [Fact]
    public async Task A_batch_with_one_bad_item_leaves_no_row_no_activity_and_no_revision()
    {
        var (_, articles) = await CreateArticlesAsync();
        var items = Enumerable.Range(1, 10).Select(i => new JsonObject { ["title"] = $"Item {i}", ["views"] = i }).ToArray();
        items[6]["title"] = null; // not null in the table
        using var create = await e2e.Gateway.PostAsync($"/items/{articles}", Json(new JsonArray(items)));
        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        Assert.Equal("NOT_NULL_VIOLATION", await EndToEndFixture.ErrorCodeAsync(create));
        Assert.Empty(await TitlesAsync(articles));
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = '{articles}'"));
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from content_revisions where collection = '{articles}'"));

        // an update batch likewise: the good items before the bad one are not kept
        var ids = await SeedAsync(articles);
        using var update = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}", new object[] { new { id = ids[0], title = "Changed" }, new { id = ids[1], views = "many" } });
        Assert.Equal(HttpStatusCode.BadRequest, update.StatusCode);
        Assert.Equal("INVALID_PAYLOAD", await EndToEndFixture.ErrorCodeAsync(update));
        Assert.Equal("First", (await RowsAsync(articles))[ids[0]].Title);
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = '{articles}' and action = 'update'"));
    }

    [Theory]
    [InlineData("""{"title":"Dup","code":"taken"}""", "RECORD_NOT_UNIQUE", "code")]
    [InlineData("""{"views":1}""", "NOT_NULL_VIOLATION", "title")]
    [InlineData("""{"title":"far too long for twenty characters"}""", "VALUE_TOO_LONG", "title")]
    [InlineData("""{"title":"Bad","views":"lots"}""", "INVALID_PAYLOAD", "views")]
    [InlineData("""{"title":"Orphan","author":999999}""", "INVALID_FOREIGN_KEY", "author")]
    public async Task A_value_the_database_refuses_is_a_400_naming_the_field(string item, string code, string field)
    {
        var (_, articles) = await CreateArticlesAsync();
        using (var first = await e2e.Gateway.PostAsync($"/items/{articles}", Json(JsonNode.Parse("""{"title":"Original","code":"taken"}""")!)))
            Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        using var response = await e2e.Gateway.PostAsync($"/items/{articles}", Json(JsonNode.Parse(item)!));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!;
        Assert.Equal(code, error["extensions"]!["code"]!.GetValue<string>());
        Assert.Equal(field, error["extensions"]!["field"]!.GetValue<string>());
        Assert.Contains($"\"{field}\"", error["message"]!.GetValue<string>());
        Assert.Equal(["Original"], await TitlesAsync(articles));
    }

    [Fact]
    public async Task A_create_grant_limits_the_fields_fills_its_presets_and_enforces_its_validation()
    {
        var (_, articles) = await CreateArticlesAsync();
        var (writer, policy) = await UserAsync();
        await GrantAsync(policy, articles, "read", new { }, ["*"]);
        await GrantAsync(policy, articles, "create", new { }, ["title", "views"],
            validation: new { views = new { _gte = 0 } }, presets: new { status = "draft" });
        Assert.True(await AccessTestUsers.BecomesAsync(writer, $"/items/{articles}", 200, TimeSpan.FromSeconds(2)), "the grants did not apply");

        using (var ok = await writer.PostAsJsonAsync($"/items/{articles}", new { title = "Mine", views = 3 }))
            Assert.Equal("draft", (await AccessTestUsers.DataAsync(ok))["status"]!.GetValue<string>());

        using (var outside = await writer.PostAsJsonAsync($"/items/{articles}", new { title = "Sneaky", status = "published" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
            var error = JsonNode.Parse(await outside.Content.ReadAsStringAsync())!["errors"]![0]!;
            Assert.Equal($"You don't have permission to access field \"status\" in collection \"{articles}\" or it does not exist.", error["message"]!.GetValue<string>());
        }
        using (var invalid = await writer.PostAsJsonAsync($"/items/{articles}", new { title = "Negative", views = -1 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            var error = JsonNode.Parse(await invalid.Content.ReadAsStringAsync())!["errors"]![0]!;
            Assert.Equal("FAILED_VALIDATION", error["extensions"]!["code"]!.GetValue<string>());
            Assert.Equal("views", error["extensions"]!["field"]!.GetValue<string>());
            Assert.Equal("gte", error["extensions"]!["type"]!.GetValue<string>());
            Assert.Equal("Validation failed for field \"views\". Value has to be greater than or equal to 0.", error["message"]!.GetValue<string>());
        }
        // an update needs its own grant
        var id = (await RowsAsync(articles)).Keys.Single();
        using (var update = await writer.PatchAsJsonAsync($"/items/{articles}/{id}", new { title = "Edited" }))
            Assert.Equal(HttpStatusCode.Forbidden, update.StatusCode);
        Assert.Equal(["Mine"], await TitlesAsync(articles));
        var activity = await ListAsync($"/activity?filter[collection][_eq]={articles}");
        Assert.Equal(await UserIdAsync(writer), activity.Single()!["user"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_update_grant_with_a_row_filter_cannot_touch_rows_outside_it()
    {
        var (_, articles) = await CreateArticlesAsync();
        var ids = await SeedAsync(articles); // views 5, 20, 30, 10
        var (writer, policy) = await UserAsync();
        await GrantAsync(policy, articles, "read", new { }, ["*"]);
        await GrantAsync(policy, articles, "update", new { views = new { _gte = 10 } }, ["title"], validation: new { title = new { _starts_with = "A" } });
        Assert.True(await AccessTestUsers.BecomesAsync(writer, $"/items/{articles}", 200, TimeSpan.FromSeconds(2)), "the grants did not apply");

        using (var outside = await writer.PatchAsJsonAsync($"/items/{articles}/{ids[0]}", new { title = "Hacked" }))
            Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        using (var mixed = await writer.PatchAsJsonAsync($"/items/{articles}", new { keys = new[] { ids[1], ids[0] }, data = new { title = "Hacked" } }))
            Assert.Equal(HttpStatusCode.Forbidden, mixed.StatusCode);
        using (var field = await writer.PatchAsJsonAsync($"/items/{articles}/{ids[1]}", new { views = 0 }))
            Assert.Equal(HttpStatusCode.Forbidden, field.StatusCode);
        using (var invalid = await writer.PatchAsJsonAsync($"/items/{articles}/{ids[1]}", new { title = "Bad" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            Assert.Equal("FAILED_VALIDATION", await EndToEndFixture.ErrorCodeAsync(invalid));
        }
        Assert.Equal("Second", (await RowsAsync(articles))[ids[1]].Title);
        using (var inside = await writer.PatchAsJsonAsync($"/items/{articles}/{ids[1]}", new { title = "Allowed" }))
            Assert.Equal("Allowed", (await AccessTestUsers.DataAsync(inside))["title"]!.GetValue<string>());

        var rows = await RowsAsync(articles);
        Assert.Equal("First", rows[ids[0]].Title);
        Assert.Equal(Row("Allowed", 20, null), rows[ids[1]]);
    }

    [Fact]
    public async Task A_delete_grant_with_a_row_filter_deletes_only_inside_it_and_no_grant_writes_nothing()
    {
        var (_, articles) = await CreateArticlesAsync();
        var ids = await SeedAsync(articles);
        var (writer, policy) = await UserAsync();
        await GrantAsync(policy, articles, "read", new { }, ["*"]);
        Assert.True(await AccessTestUsers.BecomesAsync(writer, $"/items/{articles}", 200, TimeSpan.FromSeconds(2)), "the read grant did not apply");

        // only a read grant: every write is 403 and nothing changes
        using (var create = await writer.PostAsJsonAsync($"/items/{articles}", new { title = "New" }))
            Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        using (var update = await writer.PatchAsJsonAsync($"/items/{articles}/{ids[0]}", new { title = "New" }))
            Assert.Equal(HttpStatusCode.Forbidden, update.StatusCode);
        using (var delete = await writer.DeleteAsync($"/items/{articles}/{ids[0]}"))
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal(["First", "Fourth", "Second", "Third"], await TitlesAsync(articles));

        await GrantAsync(policy, articles, "delete", new { views = new { _gte = 20 } }, null);
        Assert.True(await BecomesDeletableAsync(writer, articles, ids[2]), "the delete grant did not apply");
        using (var outside = await SendAsync(writer, HttpMethod.Delete, $"/items/{articles}", new[] { ids[1], ids[0] }))
            Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        Assert.Equal(["First", "Fourth", "Second"], await TitlesAsync(articles));
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = '{articles}' and action = 'delete'"));
    }

    [Fact]
    public async Task Nested_writes_create_the_m2o_first_and_the_o2m_with_their_foreign_key()
    {
        var (authors, articles) = await CreateArticlesAsync();
        using (var withAuthor = await e2e.Gateway.PostAsJsonAsync($"/items/{articles}?fields=title,author.name", new { title = "Nested", author = new { name = "Ada" } }))
            Assert.Equal("Ada", (await AccessTestUsers.DataAsync(withAuthor))["author"]!["name"]!.GetValue<string>());
        using (var withArticles = await e2e.Gateway.PostAsJsonAsync($"/items/{authors}?fields=name,articles.title", new { name = "Grace", articles = new[] { new { title = "One" }, new { title = "Two" } } }))
            Assert.Equal(["One", "Two"], (await AccessTestUsers.DataAsync(withArticles))["articles"]!.AsArray().Select(a => a!["title"]!.GetValue<string>()).Order());

        Assert.Equal(2, await e2e.ContentScalarAsync($"select count(*) from \"{articles}\" a join \"{authors}\" w on w.id = a.author where w.name = 'Grace'"));
        Assert.Equal(5, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection in ('{articles}', '{authors}')"));

        // a nested item the caller may not create fails the whole request
        var (writer, policy) = await UserAsync();
        await GrantAsync(policy, articles, "read", new { }, ["*"]);
        await GrantAsync(policy, articles, "create", new { }, ["*"]);
        Assert.True(await AccessTestUsers.BecomesAsync(writer, $"/items/{articles}", 200, TimeSpan.FromSeconds(2)), "the grants did not apply");
        using (var nested = await writer.PostAsJsonAsync($"/items/{articles}", new { title = "Mine", author = new { name = "Nobody" } }))
            Assert.Equal(HttpStatusCode.Forbidden, nested.StatusCode);
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from \"{articles}\" where title = 'Mine'"));
    }

    [Fact]
    public async Task A_many_to_many_create_writes_junction_rows_for_new_and_existing_related_items()
    {
        var (_, articles) = await CreateArticlesAsync();
        var (tags, junction) = await CreateTagsAsync(articles);
        var existing = await CreateTagAsync(tags, "old");

        using var response = await e2e.Gateway.PostAsJsonAsync($"/items/{articles}?fields=id,title,tags.tags_id.name",
            JsonNode.Parse($$$"""{"title":"Tagged","tags":[{"tags_id":{"name":"new"}},{"tags_id":{{{existing}}}}]}"""));
        var created = await AccessTestUsers.DataAsync(response);
        Assert.Equal(["new", "old"], created["tags"]!.AsArray().Select(t => t!["tags_id"]!["name"]!.GetValue<string>()).Order());

        var id = created["id"]!.GetValue<long>();
        Assert.Equal(["new", "old"], await TagNamesAsync(junction, tags, id));
        Assert.Equal(2, await e2e.ContentScalarAsync($"select count(*) from \"{tags}\""));
        // one activity row per row written: the article, two junction rows, the new tag (the old one was created before)
        Assert.Equal(2, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = '{junction}' and action = 'create'"));
        Assert.Equal(2, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = '{tags}' and action = 'create'"));
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = '{articles}'"));
    }

    [Fact]
    public async Task A_many_to_many_list_in_an_update_replaces_the_set_and_the_detailed_form_changes_only_what_it_names()
    {
        var (_, articles) = await CreateArticlesAsync();
        var (tags, junction) = await CreateTagsAsync(articles);
        var (a, b) = (await CreateTagAsync(tags, "a"), await CreateTagAsync(tags, "b"));
        using var create = await e2e.Gateway.PostAsJsonAsync($"/items/{articles}?fields=id,tags.id,tags.tags_id",
            JsonNode.Parse($$$"""{"title":"Set","tags":[{"tags_id":{{{a}}}},{"tags_id":{{{b}}}}]}"""));
        var article = await AccessTestUsers.DataAsync(create);
        var id = article["id"]!.GetValue<long>();
        long Row(JsonNode item, long tag) => item["tags"]!.AsArray().Single(t => t!["tags_id"]!.GetValue<long>() == tag)!["id"]!.GetValue<long>();
        var (rowA, rowB) = (Row(article, a), Row(article, b));

        // the list is the new set: row a kept as it is (named by its key), row b deleted, a new tag linked by a new row
        using (var replace = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}/{id}?fields=tags.id,tags.tags_id",
            JsonNode.Parse($$$"""{"tags":[{{{rowA}}},{"tags_id":{"name":"c"}}]}""")))
            Assert.Contains(rowA, (await AccessTestUsers.DataAsync(replace))["tags"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()));
        Assert.Equal(["a", "c"], await TagNamesAsync(junction, tags, id));
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from \"{junction}\" where id = {rowB}"));
        Assert.Equal(3, await e2e.ContentScalarAsync($"select count(*) from \"{tags}\"")); // deselecting drops the link, not the tag
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = '{junction}' and action = 'delete' and item = '{rowB}'"));
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = '{junction}' and action = 'update'"));

        // the detailed form: create a link, update one (renaming its tag through it), delete one; the rest stays
        var rowC = await e2e.ContentScalarAsync($"select id from \"{junction}\" where articles_id = {id} and id <> {rowA}");
        using (var detailed = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}/{id}", JsonNode.Parse($$$"""
            {"tags":{"create":[{"tags_id":{{{b}}}}],"update":[{"id":{{{rowA}}},"tags_id":{"id":{{{a}}},"name":"a2"}}],"delete":[{{{rowC}}}]}}
            """)))
            Assert.True(detailed.IsSuccessStatusCode, await detailed.Content.ReadAsStringAsync());
        Assert.Equal(["a2", "b"], await TagNamesAsync(junction, tags, id));
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from \"{junction}\" where id = {rowA}"));

        // an empty list empties the set
        using (var clear = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}/{id}", JsonNode.Parse("""{"tags":[]}""")))
            Assert.True(clear.IsSuccessStatusCode, await clear.Content.ReadAsStringAsync());
        Assert.Empty(await TagNamesAsync(junction, tags, id));
    }

    [Fact]
    public async Task A_one_to_many_list_in_an_update_replaces_the_set_and_the_detailed_form_changes_only_what_it_names()
    {
        var (authors, articles) = await CreateArticlesAsync();
        using var create = await e2e.Gateway.PostAsJsonAsync($"/items/{authors}?fields=id,articles.id,articles.title",
            new { name = "Ada", articles = new[] { new { title = "One" }, new { title = "Two" }, new { title = "Three" } } });
        var author = await AccessTestUsers.DataAsync(create);
        var id = author["id"]!.GetValue<long>();
        var byTitle = author["articles"]!.AsArray().ToDictionary(a => a!["title"]!.GetValue<string>(), a => a!["id"]!.GetValue<long>());

        // one_deselect_action is nullify: an article left out of the list loses its author and stays
        using (var replace = await e2e.Gateway.PatchAsJsonAsync($"/items/{authors}/{id}", JsonNode.Parse($$$"""{"articles":[{{{byTitle["One"]}}},{"id":{{{byTitle["Two"]}}},"title":"Two!"}]}""")))
            Assert.True(replace.IsSuccessStatusCode, await replace.Content.ReadAsStringAsync());
        Assert.Equal(["One", "Two!"], await AuthorTitlesAsync(articles, id));
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from \"{articles}\" where id = {byTitle["Three"]} and author is null"));

        using (var detailed = await e2e.Gateway.PatchAsJsonAsync($"/items/{authors}/{id}", JsonNode.Parse($$$"""
            {"articles":{"create":[{"title":"Four"}],"update":[{"id":{{{byTitle["Three"]}}},"title":"Three again"}],"delete":[{{{byTitle["One"]}}}]}}
            """)))
            Assert.True(detailed.IsSuccessStatusCode, await detailed.Content.ReadAsStringAsync());
        Assert.Equal(["Four", "Three again", "Two!"], await AuthorTitlesAsync(articles, id));
        Assert.Equal(4, await e2e.ContentScalarAsync($"select count(*) from \"{articles}\"")); // nullified, not deleted
    }

    [Fact]
    public async Task A_failing_nested_row_rolls_back_the_parent_the_junction_rows_and_the_related_rows()
    {
        var (_, articles) = await CreateArticlesAsync();
        var (tags, junction) = await CreateTagsAsync(articles);
        var existing = await CreateTagAsync(tags, "kept");
        Task<long> Activity() => e2e.ContentScalarAsync($"select count(*) from content_activity where collection in ('{articles}', '{tags}', '{junction}')");
        var before = await Activity();

        // the second new tag has no name (not null): nothing of the request is kept
        using (var create = await e2e.Gateway.PostAsJsonAsync($"/items/{articles}",
            JsonNode.Parse($$$"""{"title":"Doomed","tags":[{"tags_id":{"name":"fine"}},{"tags_id":{{{existing}}}},{"tags_id":{"name":null}}]}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
            Assert.Equal("NOT_NULL_VIOLATION", await EndToEndFixture.ErrorCodeAsync(create));
        }
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from \"{articles}\""));
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from \"{junction}\""));
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from \"{tags}\""));
        Assert.Equal(before, await Activity());

        // an update that replaces the set and then fails keeps the old set
        using var ok = await e2e.Gateway.PostAsJsonAsync($"/items/{articles}?fields=id", JsonNode.Parse($$$"""{"title":"Kept","tags":[{"tags_id":{{{existing}}}}]}"""));
        var id = (await AccessTestUsers.DataAsync(ok))["id"]!.GetValue<long>();
        before = await Activity();
        using (var update = await e2e.Gateway.PatchAsJsonAsync($"/items/{articles}/{id}", JsonNode.Parse("""{"title":"Changed","tags":[{"tags_id":{"name":"far too long for twenty characters"}}]}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, update.StatusCode);
            Assert.Equal("VALUE_TOO_LONG", await EndToEndFixture.ErrorCodeAsync(update));
        }
        Assert.Equal(["kept"], await TagNamesAsync(junction, tags, id));
        Assert.Equal(["Kept"], await TitlesAsync(articles));
        Assert.Equal(before, await Activity());
    }

    [Theory]
    [InlineData("""{"create":"not a list"}""")]
    [InlineData("""{"insert":[]}""")]
    [InlineData("""{"create":[1]}""")]
    [InlineData("""{"update":[{"tags_id":1}]}""")]
    [InlineData("""{"delete":[{"id":1}]}""")]
    [InlineData("""[null]""")]
    [InlineData("""[[1]]""")]
    [InlineData("\"x\"")]
    public async Task A_malformed_many_to_many_value_is_a_400_and_writes_nothing(string value)
    {
        var (_, articles) = await CreateArticlesAsync();
        var (_, junction) = await CreateTagsAsync(articles);
        using var response = await e2e.Gateway.PostAsync($"/items/{articles}", Json(JsonNode.Parse($$$"""{"title":"Bad","tags":{{{value}}}}""")!));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("INVALID_PAYLOAD", await EndToEndFixture.ErrorCodeAsync(response));
        Assert.Empty(await TitlesAsync(articles));
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from \"{junction}\""));
    }

    [Fact]
    public async Task A_many_to_many_write_needs_create_on_the_junction_and_the_related_collection()
    {
        var (_, articles) = await CreateArticlesAsync();
        var (tags, junction) = await CreateTagsAsync(articles);
        var (writer, policy) = await UserAsync();
        foreach (var collection in new[] { articles, tags, junction }) await GrantAsync(policy, collection, "read", new { }, ["*"]);
        await GrantAsync(policy, articles, "create", new { }, ["*"]);
        await GrantAsync(policy, tags, "create", new { }, ["*"]);
        Assert.True(await AccessTestUsers.BecomesAsync(writer, $"/items/{junction}", 200, TimeSpan.FromSeconds(2)), "the grants did not apply");
        var body = JsonNode.Parse("""{"title":"Mine","tags":[{"tags_id":{"name":"mine"}}]}""")!;

        // no create on the junction: 403, and neither the article nor the tag it would have created is kept
        using (var refused = await writer.PostAsync($"/items/{articles}", Json(body)))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Empty(await TitlesAsync(articles));
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from \"{tags}\""));
        Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection in ('{articles}', '{tags}', '{junction}')"));

        await GrantAsync(policy, junction, "create", new { }, ["*"]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            using var attempt = await writer.PostAsync($"/items/{articles}", Json(body));
            status = attempt.StatusCode;
            if (status != HttpStatusCode.Forbidden) break;
            await Task.Delay(25);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.OK, status);
        var id = await e2e.ContentScalarAsync($"select id from \"{articles}\" where title = 'Mine'");
        Assert.Equal(["mine"], await TagNamesAsync(junction, tags, id));
    }

    [Fact]
    public async Task Patching_a_singleton_creates_its_one_row_then_updates_it()
    {
        var settings = "site_" + Guid.NewGuid().ToString("N")[..6];
        await e2e.PostAsync("/collections", new { collection = settings, schema = new { }, meta = new { singleton = true }, fields = new object[] { new { field = "tagline", type = "string" } } });
        foreach (var tagline in new[] { "Hello", "Bonjour" })
        {
            using var response = await e2e.Gateway.PatchAsJsonAsync($"/items/{settings}", new { tagline });
            Assert.Equal(tagline, (await AccessTestUsers.DataAsync(response))["tagline"]!.GetValue<string>());
        }
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from \"{settings}\""));
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from \"{settings}\" where tagline = 'Bonjour'"));
    }

    /// <summary>authors(id, name, articles o2m) and articles(id, title varchar(20) not null, code unique, views, status, author → authors).</summary>
    private async Task<(string Authors, string Articles)> CreateArticlesAsync()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (authors, articles) = ($"authors_{suffix}", $"articles_{suffix}");
        await e2e.PostAsync("/collections", new { collection = authors, schema = new { }, fields = new object[] { new { field = "name", type = "string" } } });
        await e2e.PostAsync("/collections", new
        {
            collection = articles, schema = new { },
            fields = new object[]
            {
                new { field = "title", type = "string", schema = new { max_length = 20, is_nullable = false } },
                new { field = "code", type = "string", schema = new { is_unique = true } },
                new { field = "views", type = "integer" }, new { field = "status", type = "string" }, new { field = "author", type = "integer" },
            },
        });
        await e2e.PostAsync("/relations", new { collection = articles, field = "author", related_collection = authors, meta = new { one_field = "articles" } });
        return (authors, articles);
    }

    /// <summary>tags(id, name varchar(20) not null) and the junction articles_tags(id, articles_id, tags_id) behind the m2m alias <c>tags</c> of articles.</summary>
    private async Task<(string Tags, string Junction)> CreateTagsAsync(string articles)
    {
        var (tags, junction) = (articles.Replace("articles_", "tags_"), articles.Replace("articles_", "articles_tags_"));
        await e2e.PostAsync("/collections", new { collection = tags, schema = new { }, fields = new object[] { new { field = "name", type = "string", schema = new { max_length = 20, is_nullable = false } } } });
        await e2e.PostAsync("/collections", new
        {
            collection = junction, schema = new { }, meta = new { hidden = true },
            fields = new object[] { new { field = "articles_id", type = "integer" }, new { field = "tags_id", type = "integer" } },
        });
        await e2e.PostAsync("/relations", new { collection = junction, field = "articles_id", related_collection = articles, meta = new { one_field = "tags", junction_field = "tags_id" }, schema = new { on_delete = "CASCADE" } });
        await e2e.PostAsync("/relations", new { collection = junction, field = "tags_id", related_collection = tags, meta = new { junction_field = "articles_id" }, schema = new { on_delete = "CASCADE" } });
        return (tags, junction);
    }

    private async Task<long> CreateTagAsync(string tags, string name)
    {
        using var response = await e2e.Gateway.PostAsJsonAsync($"/items/{tags}?fields=id", new { name });
        return (await AccessTestUsers.DataAsync(response))["id"]!.GetValue<long>();
    }

    /// <summary>The names of the tags linked to one article, read from the tables.</summary>
    private Task<List<string>> TagNamesAsync(string junction, string tags, long article) =>
        StringsAsync($"select t.name from \"{junction}\" j join \"{tags}\" t on t.id = j.tags_id where j.articles_id = {article} order by t.name");

    private Task<List<string>> AuthorTitlesAsync(string articles, long author) =>
        StringsAsync($"select title from \"{articles}\" where author = {author} order by title");

    /// <summary>Four articles created through the API; their keys in order (views 5, 20, 30, 10).</summary>
    private async Task<long[]> SeedAsync(string articles)
    {
        using var response = await e2e.Gateway.PostAsJsonAsync($"/items/{articles}?fields=id", new object[]
        {
            new { title = "First", views = 5 }, new { title = "Second", views = 20 }, new { title = "Third", views = 30 }, new { title = "Fourth", views = 10 },
        });
        return (await AccessTestUsers.DataAsync(response)).AsArray().Select(i => i!["id"]!.GetValue<long>()).Order().ToArray();
    }

    private async Task<(HttpClient Client, string Policy)> UserAsync()
    {
        var (_, policy, client) = await AccessTestUsers.GrantableUserAsync(e2e.Gateway, e2e.GatewayUrl, app: true);
        return (client, policy);
    }

    private async Task GrantAsync(string policy, string collection, string action, object permissions, string[]? fields, object? validation = null, object? presets = null) =>
        await e2e.PostAsync("/permissions", new { policy, collection, action, fields, permissions, validation, presets });

    /// <summary>Polls a delete the grant admits until it answers 204 (grants apply within a second).</summary>
    private static async Task<bool> BecomesDeletableAsync(HttpClient client, string collection, long id)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            using var response = await client.DeleteAsync($"/items/{collection}/{id}");
            if (response.StatusCode == HttpStatusCode.NoContent) return true;
            await Task.Delay(25);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(2));
        return false;
    }

    private static async Task<string> UserIdAsync(HttpClient client) =>
        JsonNode.Parse(await client.GetStringAsync("/users/me"))!["data"]!["id"]!.GetValue<string>();

    private async Task<JsonArray> ListAsync(string path) => JsonNode.Parse(await e2e.Gateway.GetStringAsync(path))!["data"]!.AsArray();

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, object body) =>
        client.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) });

    private Task<List<string>> TitlesAsync(string collection) => StringsAsync($"select title from \"{collection}\" order by title");

    private async Task<List<string>> StringsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(e2e.Postgres.ConnectionStringFor("content"));
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        var titles = new List<string>();
        while (await reader.ReadAsync()) titles.Add(reader.GetString(0));
        return titles;
    }

    private async Task<Dictionary<long, (string Title, int? Views, string? Status)>> RowsAsync(string collection)
    {
        await using var connection = new NpgsqlConnection(e2e.Postgres.ConnectionStringFor("content"));
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand($"select id, title, views, status from \"{collection}\"", connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new Dictionary<long, (string, int?, string?)>();
        while (await reader.ReadAsync())
            rows[Convert.ToInt64(reader.GetValue(0))] = (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetString(3));
        return rows;
    }

    private static (string Title, int? Views, string? Status) Row(string title, int? views, string? status) => (title, views, status);
}
