using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Access;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// The content permission matrix through the gateway: (admin, app user, API-only user, public) × (read, create,
/// update, delete) × (own rows, other rows, a forbidden field). Both users hold the same grants — rows they own,
/// fields without <c>secret</c> — so the only difference is who they are. Every body a non-admin receives is kept, and
/// none may hold a secret or another caller's row: 0 leaks.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ContentPermissionMatrixTests(EndToEndFixture e2e)
{
    private readonly List<(HttpClient Client, string Body)> _seenByNonAdmins = [];

    [Fact]
    public async Task Every_caller_reaches_exactly_its_own_rows_and_permitted_fields()
    {
        var notes = "notes_" + Guid.NewGuid().ToString("N")[..6];
        await e2e.PostAsync("/collections", new
        {
            collection = notes, schema = new { },
            fields = new object[] { new { field = "title", type = "string" }, new { field = "secret", type = "string" }, new { field = "owner", type = "uuid" } },
        });
        var (app, appId) = await UserWithGrantsAsync(notes, appAccess: true);
        var (api, apiId) = await UserWithGrantsAsync(notes, appAccess: false);
        using var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null);

        var seeded = await AdminCreateAsync(notes, new object[]
        {
            new { title = "app-row", secret = "SECRET-app-" + Guid.NewGuid(), owner = appId },
            new { title = "api-row", secret = "SECRET-api-" + Guid.NewGuid(), owner = apiId },
            new { title = "nobody-row", secret = "SECRET-nobody-" + Guid.NewGuid(), owner = (string?)null },
        });
        var (appRow, apiRow, nobodyRow) = (seeded[0], seeded[1], seeded[2]);
        Assert.True(await AccessTestUsers.BecomesAsync(api, $"/items/{notes}", 200, TimeSpan.FromSeconds(1)), "the grants did not apply within a second");

        foreach (var (client, self, own, others) in new[] { (app, appId, appRow, new[] { apiRow, nobodyRow }), (api, apiId, apiRow, new[] { appRow, nobodyRow }) })
        {
            // read: own rows only, without the forbidden field; another's row and the field itself are 403
            var list = await DataAsync(client, $"/items/{notes}?sort=id");
            Assert.Equal([own], list.AsArray().Select(i => i!["id"]!.GetValue<long>()));
            Assert.Null(list[0]!["secret"]);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, client.GetAsync($"/items/{notes}/{own}")));
            foreach (var other in others) Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.GetAsync($"/items/{notes}/{other}")));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.GetAsync($"/items/{notes}?fields=secret")));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.GetAsync($"/items/{notes}?filter[secret][_starts_with]=S")));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.GetAsync($"/items/{notes}?aggregate[count]=secret")));

            // create: the preset makes it theirs; owning it to another fails validation; the forbidden field is 403
            var rows = await RowCountAsync(notes);
            using (var created = await client.PostAsJsonAsync($"/items/{notes}", new { title = "new-" + self }))
                Assert.Equal(self, (await AccessTestUsers.DataAsync(created))["owner"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(client, client.PostAsJsonAsync($"/items/{notes}", new { title = "stolen", owner = self == appId ? apiId : appId })));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.PostAsJsonAsync($"/items/{notes}", new { title = "peek", secret = "x" })));
            Assert.Equal(rows + 1, await RowCountAsync(notes));

            // update: own row yes; another's row and the forbidden field are 403 and change nothing
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, client.PatchAsJsonAsync($"/items/{notes}/{own}", new { title = "edited-" + self })));
            foreach (var other in others)
                Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.PatchAsJsonAsync($"/items/{notes}/{other}", new { title = "hijacked" })));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.PatchAsJsonAsync($"/items/{notes}/{own}", new { secret = "overwritten" })));
            Assert.Equal(0, await e2e.ContentScalarAsync($"select count(*) from \"{notes}\" where title = 'hijacked' or secret = 'overwritten'"));

            // delete: another's row is 403 and stays; own new row goes
            foreach (var other in others)
                Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.DeleteAsync($"/items/{notes}/{other}")));
            var mine = await e2e.ContentScalarAsync($"select id from \"{notes}\" where title = 'new-{self}'");
            Assert.Equal(HttpStatusCode.NoContent, await StatusAsync(client, client.DeleteAsync($"/items/{notes}/{mine}")));
            Assert.Equal(3, await RowCountAsync(notes));
        }

        // public: no grant, so every cell is 403 and nothing changes
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(anonymous, anonymous.GetAsync($"/items/{notes}")));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(anonymous, anonymous.GetAsync($"/items/{notes}/{nobodyRow}")));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(anonymous, anonymous.PostAsJsonAsync($"/items/{notes}", new { title = "anonymous" })));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(anonymous, anonymous.PatchAsJsonAsync($"/items/{notes}/{nobodyRow}", new { title = "anonymous" })));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(anonymous, anonymous.DeleteAsync($"/items/{notes}/{nobodyRow}")));
        Assert.Equal(3, await RowCountAsync(notes));

        // admin: every row and field
        var all = await DataAsync(e2e.Gateway, $"/items/{notes}?fields=id,title,secret&sort=id");
        Assert.Equal(["edited-" + appId, "edited-" + apiId, "nobody-row"], all.AsArray().Select(i => i!["title"]!.GetValue<string>()));
        Assert.All(all.AsArray(), i => Assert.StartsWith("SECRET-", i!["secret"]!.GetValue<string>()));

        // 0 leaks: no secret, and neither user ever saw the other's or nobody's row
        Assert.NotEmpty(_seenByNonAdmins);
        foreach (var (client, body) in _seenByNonAdmins)
        {
            Assert.DoesNotContain("SECRET-", body);
            Assert.DoesNotContain("nobody-row", body);
            Assert.DoesNotContain(client == app ? "api-row" : "app-row", body);
            Assert.DoesNotContain(client == app ? apiId : appId, body);
        }
    }

    [Fact]
    public async Task A_field_only_one_policy_grants_is_read_and_written_only_on_that_policys_rows()
    {
        var notes = "shared_" + Guid.NewGuid().ToString("N")[..6];
        await e2e.PostAsync("/collections", new
        {
            collection = notes, schema = new { },
            fields = new object[]
            {
                new { field = "title", type = "string" }, new { field = "secret", type = "string" }, new { field = "owner", type = "uuid" },
                new { field = "open", type = "boolean" },
            },
        });
        // two policies on one role: open rows without the secret, own rows with it (Directus 11 keeps them apart per row)
        var openPolicy = await AccessTestUsers.PolicyAsync(e2e.Gateway, app: true);
        var ownPolicy = await AccessTestUsers.PolicyAsync(e2e.Gateway, app: true);
        var role = await AccessTestUsers.RoleAsync(e2e.Gateway, openPolicy, ownPolicy);
        var user = await AccessTestUsers.UserAsync(e2e.Gateway, role);
        using var client = AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);
        var self = user.Id;
        var open = new { open = new { _eq = true } };
        var own = new { owner = new { _eq = "$CURRENT_USER" } };
        foreach (var action in new[] { "read", "update" })
        {
            await e2e.PostAsync("/permissions", new { policy = openPolicy, collection = notes, action, permissions = open, fields = new[] { "id", "title", "open" } });
            await e2e.PostAsync("/permissions", new { policy = ownPolicy, collection = notes, action, permissions = own, fields = new[] { "*" } });
        }
        var rows = await AdminCreateAsync(notes, new object[]
        {
            new { title = "theirs", secret = "SECRET-theirs", open = true, owner = (string?)null },
            new { title = "mine", secret = "mine-secret", open = false, owner = self },
        });
        Assert.True(await AccessTestUsers.BecomesAsync(client, $"/items/{notes}", 200, TimeSpan.FromSeconds(1)), "the grants did not apply within a second");

        var seen = await DataAsync(client, $"/items/{notes}?fields=id,title,secret&sort=id");
        Assert.Equal(["theirs", "mine"], seen.AsArray().Select(r => r!["title"]!.GetValue<string>()));
        Assert.Null(seen[0]!["secret"]); // the open row is not theirs: its secret stays hidden
        Assert.Equal("mine-secret", seen[1]!["secret"]!.GetValue<string>());
        Assert.Empty((await DataAsync(client, $"/items/{notes}?fields=id&filter[secret][_starts_with]=SECRET")).AsArray());

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, client.PatchAsJsonAsync($"/items/{notes}/{rows[0]}", new { title = "retitled" })));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, client.PatchAsJsonAsync($"/items/{notes}/{rows[0]}", new { secret = "overwritten" })));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, client.PatchAsJsonAsync($"/items/{notes}/{rows[1]}", new { secret = "changed" })));
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from \"{notes}\" where secret = 'SECRET-theirs' and title = 'retitled'"));
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from \"{notes}\" where secret = 'changed'"));
        Assert.All(_seenByNonAdmins, b => Assert.DoesNotContain("SECRET-", b.Body));
    }

    /// <summary>A user whose one policy grants every action on rows it owns, all fields but <c>secret</c>.</summary>
    private async Task<(HttpClient Client, string Id)> UserWithGrantsAsync(string collection, bool appAccess)
    {
        var (user, policy, client) = await AccessTestUsers.GrantableUserAsync(e2e.Gateway, e2e.GatewayUrl, appAccess);
        var own = new { owner = new { _eq = "$CURRENT_USER" } };
        await e2e.PostAsync("/permissions", new { policy, collection, action = "read", permissions = own, fields = new[] { "id", "title", "owner" } });
        await e2e.PostAsync("/permissions", new
        {
            policy, collection, action = "create", fields = new[] { "title", "owner" }, validation = own, presets = new { owner = "$CURRENT_USER" },
        });
        await e2e.PostAsync("/permissions", new { policy, collection, action = "update", permissions = own, fields = new[] { "title" } });
        await e2e.PostAsync("/permissions", new { policy, collection, action = "delete", permissions = own, fields = new[] { "*" } });
        return (client, user.Id);
    }

    private async Task<long[]> AdminCreateAsync(string collection, object[] rows)
    {
        using var response = await e2e.Gateway.PostAsJsonAsync($"/items/{collection}?fields=id", rows);
        return (await AccessTestUsers.DataAsync(response)).AsArray().Select(i => i!["id"]!.GetValue<long>()).ToArray();
    }

    private Task<long> RowCountAsync(string collection) => e2e.ContentScalarAsync($"select count(*) from \"{collection}\"");

    private async Task<JsonNode> DataAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        if (client != e2e.Gateway) _seenByNonAdmins.Add((client, text));
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!["data"]!;
    }

    private async Task<HttpStatusCode> StatusAsync(HttpClient client, Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        _seenByNonAdmins.Add((client, await response.Content.ReadAsStringAsync()));
        return response.StatusCode;
    }
}
