using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiAssistant.Tests.EndToEnd;
using Xunit;

namespace AiAssistant.Tests.Access;

/// <summary>
/// {no token, API-only user, app user, admin} × every route group of every service, through the gateway, from one
/// table. A route prefix of the gateway's route table without a row here fails the last test.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class AuthorizationMatrixTests(EndToEndFixture e2e)
{
    private const string Json = "application/json";

    /// <summary>method, path, body (null: none), expected status for: no token, API-only, app user, admin.</summary>
    public static readonly (string Method, string Path, string? Body, int None, int ApiOnly, int App, int Admin)[] Matrix =
    [
        ("GET", "/server/ping", null, 200, 200, 200, 200),
        ("GET", "/server/info", null, 403, 200, 200, 200),
        // app users read the settings the app needs (the prompts collection's name), admins all of them
        ("GET", "/settings", null, 403, 403, 200, 200),
        ("PATCH", "/settings", "{}", 403, 403, 403, 200),
        ("POST", "/auth/login", "{}", 400, 400, 400, 400),
        ("POST", "/auth/refresh", "{}", 400, 400, 400, 400),
        ("POST", "/auth/logout", "{}", 400, 400, 400, 400),
        ("GET", "/users/me", null, 403, 200, 200, 200),
        ("GET", "/users", null, 403, 403, 403, 200),
        ("POST", "/users", "{}", 403, 403, 403, 400),
        ("GET", "/roles", null, 403, 403, 403, 200),
        ("POST", "/roles", "{}", 403, 403, 403, 400),
        ("GET", "/policies", null, 403, 403, 403, 200),
        ("POST", "/policies", "{}", 403, 403, 403, 400),
        ("GET", "/permissions", null, 403, 403, 403, 200),
        ("GET", "/permissions/me", null, 403, 200, 200, 200),
        ("POST", "/permissions", "{}", 403, 403, 403, 400),
        // App access, not admin: an invalid chat body is a 400 only for those who may chat.
        ("POST", "/ai/chat", "{}", 403, 403, 400, 400),
        ("GET", "/ai/models", null, 403, 403, 200, 200),
        // an attachment upload: app access first, then the body (JSON, not multipart: 415)
        ("POST", "/ai/files", "{}", 403, 403, 415, 415),
        // Tools under /ai, admins only: the tool-call audit, and generating the prompts collection (a bad name: 400).
        ("GET", "/ai/tool-calls", null, 403, 403, 403, 200),
        ("POST", "/ai/prompts-collection", """{"collection":"Not A Name"}""", 403, 403, 403, 400),
        // Schema reads: everyone sees the part its read permissions cover (none here: an empty list); writes are admin only.
        ("GET", "/collections", null, 200, 200, 200, 200),
        ("POST", "/collections", "{}", 403, 403, 403, 400),
        ("GET", "/fields", null, 200, 200, 200, 200),
        ("POST", "/fields/articles", "{}", 403, 403, 403, 400),
        ("GET", "/relations", null, 200, 200, 200, 200),
        ("POST", "/relations", "{}", 403, 403, 403, 400),
        // No such collection: forbidden to everyone alike (no existence leak).
        ("GET", "/items/articles", null, 403, 403, 403, 403),
        ("POST", "/items/articles", "{}", 403, 403, 403, 403),
        // Activity and revisions: everything for admins, their own for users with app access.
        ("GET", "/activity", null, 403, 403, 200, 200),
        ("GET", "/revisions", null, 403, 403, 200, 200),
        // Files and folders: the caller's grants on directus_files / directus_folders (none here); a missing asset is 403 to all.
        ("GET", "/files", null, 403, 403, 403, 200),
        ("POST", "/files", "{}", 403, 403, 403, 415),
        ("GET", "/folders", null, 403, 403, 403, 200),
        ("GET", "/assets/x", null, 403, 403, 403, 403),
        // Flows and operations: admins only, as in Directus.
        ("GET", "/flows", null, 403, 403, 403, 200),
        ("GET", "/operations", null, 403, 403, 403, 200),
        // Notifications: every signed-in user reads their own (admins everyone's)
        ("GET", "/notifications", null, 403, 200, 200, 200),
        // MCP is off by default: 403 "MCP must be enabled" to everyone (McpClientTests turns it on)
        ("POST", "/mcp", "{}", 403, 403, 403, 403),
        ("GET", "/schema/snapshot", null, 404, 404, 404, 404),
    ];

    [Fact]
    public async Task Every_cell_of_the_matrix_answers_its_status()
    {
        using var admin = e2e.Client(e2e.GatewayUrl);
        var apiOnly = await AccessTestUsers.UserAsync(admin, app: false);
        var appUser = await AccessTestUsers.UserAsync(admin, app: true);
        using var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null);
        // The API-only user signs in with a JWT, the app user with a static token: both kinds are in the matrix.
        using var apiClient = AccessTestUsers.Client(e2e.GatewayUrl, (await AccessTestUsers.LoginAsync(anonymous, apiOnly.Email, apiOnly.Password)).Access);
        using var appClient = AccessTestUsers.Client(e2e.GatewayUrl, appUser.StaticToken);

        var failures = new List<string>();
        foreach (var row in Matrix)
            foreach (var (who, client, expected) in new[] { ("no token", anonymous, row.None), ("API-only", apiClient, row.ApiOnly), ("app user", appClient, row.App), ("admin", admin, row.Admin) })
            {
                using var request = new HttpRequestMessage(new HttpMethod(row.Method), row.Path);
                if (row.Body is not null) request.Content = new StringContent(row.Body, Encoding.UTF8, Json);
                using var response = await client.SendAsync(request);
                if ((int)response.StatusCode != expected)
                    failures.Add($"{row.Method} {row.Path} as {who}: {(int)response.StatusCode}, expected {expected}: {await response.Content.ReadAsStringAsync()}");
                else if (expected is 401 or 403)
                {
                    var code = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!["extensions"]!["code"]!.GetValue<string>();
                    if (code != (expected == 401 ? "INVALID_CREDENTIALS" : "FORBIDDEN"))
                        failures.Add($"{row.Method} {row.Path} as {who}: code {code}");
                }
            }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task The_api_only_users_403_on_chat_is_the_references_body()
    {
        using var admin = e2e.Client(e2e.GatewayUrl);
        var apiOnly = await AccessTestUsers.UserAsync(admin, app: false);
        using var client = AccessTestUsers.Client(e2e.GatewayUrl, apiOnly.StaticToken);
        using var response = await client.PostAsJsonAsync("/ai/chat", EndToEndFixture.ChatBody("Hello"));
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Equal("""{"errors":[{"message":"You don't have permission to access this.","extensions":{"code":"FORBIDDEN"}}]}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Every_route_prefix_of_the_gateway_has_a_row()
    {
        // YARP routes of the gateway's appsettings.json: "Match": { "Path": "/ai/{**rest}" } is the prefix /ai.
        var table = JsonNode.Parse(File.ReadAllText(GatewayAppSettings()))!["ReverseProxy"]!["Routes"]!.AsObject()
            .Select(r => r.Value!["Match"]!["Path"]!.GetValue<string>().Replace("/{**rest}", ""));
        var missing = table.Where(prefix => !Matrix.Any(row => row.Path == prefix || row.Path.StartsWith(prefix + "/", StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, "route prefixes without a row in the matrix: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task An_app_user_reads_only_the_settings_the_app_needs_and_never_a_key()
    {
        var user = await AccessTestUsers.UserAsync(e2e.Gateway, app: true);
        using var client = AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);

        var all = (await AccessTestUsers.DataAsync(await client.GetAsync("/settings"))).AsObject();
        Assert.Equal(["mcp_prompts_collection"], all.Select(p => p.Key));
        var one = (await AccessTestUsers.DataAsync(await client.GetAsync("/settings?fields=mcp_prompts_collection"))).AsObject();
        Assert.Equal(["mcp_prompts_collection"], one.Select(p => p.Key));

        using var key = await client.GetAsync("/settings?fields=mcp_prompts_collection,ai_openai_api_key");
        Assert.Equal(403, (int)key.StatusCode);
        Assert.Equal("FORBIDDEN", await EndToEndFixture.ErrorCodeAsync(key));
        Assert.Equal(403, (int)(await client.PatchAsJsonAsync("/settings", new { mcp_prompts_collection = (string?)null })).StatusCode);
    }

    [Fact]
    public async Task Each_service_refuses_a_caller_without_a_token_itself()
    {
        using var settings = AccessTestUsers.Client(e2e.SettingsUrl, null);
        using var tools = AccessTestUsers.Client(e2e.ToolsUrl, null);
        using var chat = AccessTestUsers.Client(e2e.ChatReplicas[0].HttpUrl, null);
        // Without a token each service itself applies the Public policy, which holds no grant here.
        Assert.Equal(403, (int)(await settings.GetAsync("/settings")).StatusCode);
        Assert.Equal(403, (int)(await settings.GetAsync("/users")).StatusCode);
        Assert.Equal(403, (int)(await tools.GetAsync("/activity")).StatusCode);
        Assert.Equal(403, (int)(await chat.PostAsJsonAsync("/ai/chat", EndToEndFixture.ChatBody("Hello"))).StatusCode);
        // A forged token is refused by the service, not only by the gateway.
        using var forged = AccessTestUsers.Client(e2e.SettingsUrl,
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpZCI6IngiLCJhZG1pbl9hY2Nlc3MiOnRydWV9.");
        Assert.Equal(401, (int)(await forged.GetAsync("/settings")).StatusCode);
    }

    private static string GatewayAppSettings([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "../../../Gateway/appsettings.json"));
}
