using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiAssistant.Tests.EndToEnd;
using Xunit;

namespace AiAssistant.Tests.Access;

/// <summary>Bad input is a 400 naming the field with nothing stored; no secret reaches a log line or an answer.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class AccessBadInputTests(EndToEndFixture e2e)
{
    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "/users", """{"email":"not-an-email","password":"pw-123456"}""", "email" },
        { "/users", """{"email":"a b@example.com","password":"pw-123456"}""", "email" },
        { "/users", """{"email":"ok-{0}@example.com","password":""}""", "password" },
        { "/users", """{"email":"ok-{0}@example.com","password":"pw-123456","role":"00000000-0000-0000-0000-000000000001"}""", "role" },
        { "/users", """{"email":"ok-{0}@example.com","password":"pw-123456","role":"nope"}""", "role" },
        { "/users", """{"email":"ok-{0}@example.com","password":"pw-123456","status":"sleeping"}""", "status" },
        { "/users", """{"email":"ok-{0}@example.com","password":"pw-123456","is_admin":true}""", "is_admin" },
        { "/roles", """{"name":"r-{0}","policies":[{"policy":"00000000-0000-0000-0000-000000000002"}]}""", "policies" },
        { "/policies", """{"name":"p-{0}","app_access":"yes"}""", "app_access" },
        { "/policies", """{"name":"p-{0}","permissions":[{"collection":"articles","action":"publish"}]}""", "permissions[0].action" },
        { "/policies", """{"name":"p-{0}","permissions":[{"collection":"articles","action":"read","permissions":{"author":{"_equals":"$CURRENT_USER"}}}]}""", "permissions[0].permissions" },
        { "/permissions", """{"policy":"abf8a154-5b1c-4a46-ac9c-7300570f4f17","collection":"articles","action":"read","permissions":{"_and":{"a":{"_eq":1}}}}""", "permissions" },
        { "/permissions", """{"policy":"abf8a154-5b1c-4a46-ac9c-7300570f4f17","collection":"articles","action":"read","permissions":{"owner":{"_eq":"$CURRENT_PERSON"}}}""", "permissions" },
        { "/permissions", """{"policy":"abf8a154-5b1c-4a46-ac9c-7300570f4f17","collection":"articles","action":"archive"}""", "action" },
        { "/permissions", """{"policy":"00000000-0000-0000-0000-000000000003","collection":"articles","action":"read"}""", "policy" },
        { "/permissions", """{"policy":"abf8a154-5b1c-4a46-ac9c-7300570f4f17","collection":"articles","action":"read","fields":5}""", "fields" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_input_is_a_400_naming_the_field_and_nothing_is_stored(string path, string body, string field)
    {
        using var admin = e2e.Client(e2e.GatewayUrl);
        var before = await CountsAsync(admin);
        using var response = await admin.PostAsync(path, new StringContent(body.Replace("{0}", AccessTestUsers.Unique("")), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(400, (int)response.StatusCode);
        var error = JsonNode.Parse(text)!["errors"]![0]!;
        Assert.Equal("INVALID_PAYLOAD", error["extensions"]!["code"]!.GetValue<string>());
        Assert.Equal(field, error["extensions"]!["field"]!.GetValue<string>());
        Assert.Equal(before, await CountsAsync(admin));
    }

    [Fact]
    public async Task A_duplicate_email_in_another_case_is_a_400_naming_email()
    {
        using var admin = e2e.Client(e2e.GatewayUrl);
        var user = await AccessTestUsers.UserAsync(admin, app: false);
        using var response = await admin.PostAsJsonAsync("/users", new { email = user.Email.ToUpperInvariant(), password = "pw-abcdef" });
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("email", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!["extensions"]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_valid_permission_with_dynamic_variables_is_stored_and_served_to_its_holder()
    {
        using var admin = e2e.Client(e2e.GatewayUrl);
        var collection = AccessTestUsers.Unique("articles_");
        var policy = await AccessTestUsers.DataAsync(await admin.PostAsJsonAsync("/policies", new
        {
            name = AccessTestUsers.Unique("writers-"),
            app_access = true,
            permissions = new object[]
            {
                new { collection, action = "read", fields = new[] { "*" } },
                new { collection, action = "update", fields = new[] { "title", "body" }, permissions = new { _and = new object[] { new { author = new { _eq = "$CURRENT_USER" } }, new { status = new { _in = new[] { "draft" } } } } } },
            },
        }));
        var role = await AccessTestUsers.RoleAsync(admin, policy["id"]!.GetValue<string>());
        var email = AccessTestUsers.Unique("writer-") + "@example.com";
        var token = AccessTestUsers.Unique("writer-static-");
        await AccessTestUsers.DataAsync(await admin.PostAsJsonAsync("/users", new { email, password = "pw-writer-1", role, token }));

        var listed = await AccessTestUsers.DataAsync(await admin.GetAsync($"/permissions?filter[collection][_eq]={collection}&sort=action"));
        Assert.Equal(["read", "update"], listed.AsArray().Select(p => p!["action"]!.GetValue<string>()));

        using var writer = AccessTestUsers.Client(e2e.GatewayUrl, token);
        var mine = await AccessTestUsers.DataAsync(await writer.GetAsync("/permissions/me"));
        Assert.Equal("full", mine[collection]!["read"]!["access"]!.GetValue<string>());
        Assert.Equal("partial", mine[collection]!["update"]!["access"]!.GetValue<string>());
        Assert.Contains("$CURRENT_USER", mine[collection]!["update"]!["permissions"]!.ToJsonString());
        Assert.Null(mine[collection]!["delete"]);
    }

    [Fact]
    public async Task No_password_hash_or_token_appears_in_logs_events_or_answers()
    {
        using var admin = e2e.Client(e2e.GatewayUrl);
        var user = await AccessTestUsers.UserAsync(admin, app: true);
        using var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null);
        var (access, refresh) = await AccessTestUsers.LoginAsync(anonymous, user.Email, user.Password);
        var rotated = await AccessTestUsers.DataAsync(await anonymous.PostAsJsonAsync("/auth/refresh", new { refresh_token = refresh }));
        await anonymous.PostAsJsonAsync("/auth/login", new { email = user.Email, password = user.Password + "-typo" });
        await anonymous.PostAsJsonAsync("/auth/refresh", new { refresh_token = refresh }); // reuse
        var listed = await admin.GetStringAsync("/users");
        using var ownerView = AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);
        var me = await ownerView.GetStringAsync("/users/me");

        var secrets = new[]
        {
            user.Password, user.Password + "-typo", user.StaticToken, access, refresh, rotated["refresh_token"]!.GetValue<string>(),
            rotated["access_token"]!.GetValue<string>(), e2e.AdminToken, AiAssistant.ServiceDefaults.Access.CallerResolver.Sha256Hex(user.StaticToken),
        };
        foreach (var secret in secrets)
        {
            Assert.Empty(e2e.App.Find(secret));
            Assert.DoesNotContain(secret, listed);
            Assert.DoesNotContain(secret, me);
        }
        // The events: AccessChanged rows in Settings' outbox name the user and carry no secret.
        var events = new List<string>();
        await using (var db = new Npgsql.NpgsqlConnection(e2e.Postgres.ConnectionStringFor("settings")))
        {
            await db.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("select event_type, payload::text from outbox_messages", db);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) events.Add(reader.GetString(0) + " " + reader.GetString(1));
        }
        Assert.Contains(events, e => e.StartsWith("AiAssistant.Contracts.AccessChanged ", StringComparison.Ordinal) && e.Contains(user.Id));
        foreach (var secret in secrets) Assert.DoesNotContain(events, e => e.Contains(secret));
        Assert.DoesNotContain("AQAAAA", listed); // the PasswordHasher v3 format's prefix
        Assert.DoesNotContain("password_hash", listed);
        Assert.Empty(e2e.App.Find("AQAAAA"));
    }

    /// <summary>How many users, roles, policies and permissions exist.</summary>
    private static async Task<string> CountsAsync(HttpClient admin)
    {
        var counts = new List<int>();
        foreach (var path in new[] { "/users?limit=-1", "/roles?limit=-1", "/policies?limit=-1", "/permissions?limit=-1" })
            counts.Add((await AccessTestUsers.DataAsync(await admin.GetAsync(path))).AsArray().Count);
        return string.Join(",", counts);
    }
}
