using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.Tests.Access;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// The admin app at <c>/admin</c> in Debian's chromium (<c>tests/web/web.test.mjs</c>, playwright-core): sign in, Settings
/// → AI, the assistant panel's stream, approvals, Stop, and who sees what. Screenshots of each page are kept in
/// <c>artifacts/screenshots/web</c>.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class WebAppTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task The_gateway_serves_the_app_with_a_strict_content_security_policy()
    {
        using var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null);
        foreach (var path in new[] { "/admin", "/admin/login", "/admin/content/posts/1" })
        {
            using var page = await anonymous.GetAsync(path);
            Assert.True(page.IsSuccessStatusCode, $"GET {path} answered {(int)page.StatusCode}");
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            Assert.Contains("<div id=\"app\">", await page.Content.ReadAsStringAsync());
            Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        }
        using var missing = await anonymous.GetAsync("/admin/assets/missing.js");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        using var escape = await anonymous.GetAsync("/admin/..%2F..%2Fappsettings.json");
        Assert.DoesNotContain("ReverseProxy", await escape.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Policy_globals_say_what_the_app_may_show()
    {
        foreach (var (app, isAdmin) in new[] { (true, true), (true, false), (false, false) })
        {
            var user = await AccessTestUsers.UserAsync(e2e.Gateway, app, isAdmin);
            using var client = AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);
            using var response = await client.GetAsync("/policies/me/globals");
            var globals = await AccessTestUsers.DataAsync(response);
            Assert.Equal(app, globals["app_access"]!.GetValue<bool>());
            Assert.Equal(isAdmin, globals["admin_access"]!.GetValue<bool>());
        }
        using var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null);
        using var refused = await anonymous.GetAsync("/policies/me/globals");
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode); // as Directus answers the Public policy
    }

    [Fact]
    public async Task The_browser_suite_passes_against_the_stack()
    {
        await e2e.UseNewKeyAsync();
        e2e.Simulator.ClearReplies();
        var admin = await AccessTestUsers.UserAsync(e2e.Gateway, app: true, isAdmin: true);
        var (app, appPolicy, appClient) = await AccessTestUsers.GrantableUserAsync(e2e.Gateway, e2e.GatewayUrl, app: true);
        appClient.Dispose();
        var apiOnly = await AccessTestUsers.UserAsync(e2e.Gateway, app: false);
        var before = (JsonArray)(await SettingsAsync())["ai_openai_compatible_providers"]!;
        // A second gateway in front of the same services, started with AI_ENABLED=false: the app there has no panel.
        await using var aiOff = await GatewayProcess.StartAsync(new Dictionary<string, string>
        {
            ["AI_ENABLED"] = "false",
            ["ConnectionStrings__redis"] = await e2e.App.ConnectionStringAsync(ResourceNames.Redis),
            ["Internal__Token"] = e2e.InternalToken,
            ["Auth__JwtKey"] = e2e.App.Secret("jwt.key"),
            ["services__settings__http__0"] = e2e.SettingsUrl,
            ["services__settings__grpc__0"] = e2e.SettingsGrpcUrl,
            ["services__tools__http__0"] = e2e.ToolsUrl,
            ["services__chat__http__0"] = e2e.ChatReplicas[0].HttpUrl,
        });
        try
        {
            await NodeSuite.RunAsync("web", "web.test.mjs", "playwright-core", new Dictionary<string, string>
            {
                ["GATEWAY_URL"] = e2e.GatewayUrl, ["AI_OFF_GATEWAY_URL"] = aiOff.Url, ["ADMIN_TOKEN"] = e2e.AdminToken,
                ["SIM_URL"] = e2e.Simulator.Origin.ToString().TrimEnd('/'), ["SIM_BASE_URL"] = e2e.Simulator.BaseUrl,
                ["ADMIN_EMAIL"] = admin.Email, ["ADMIN_PASSWORD"] = admin.Password,
                ["APP_EMAIL"] = app.Email, ["APP_PASSWORD"] = app.Password, ["APP_POLICY"] = appPolicy,
                ["API_EMAIL"] = apiOnly.Email, ["API_PASSWORD"] = apiOnly.Password,
                ["SCREENSHOTS"] = Path.Combine(NodeSuite.RepositoryRoot(), "artifacts", "screenshots", "web"),
            });
        }
        finally
        {
            // The suite adds a provider; the other tests expect the fixture's one alone (kept keys are not sent back).
            foreach (var provider in before) ((JsonObject)provider!).Remove("api_key");
            await e2e.PatchSettingsAsync(new Dictionary<string, object?> { ["ai_openai_compatible_providers"] = before });
        }
    }

    private async Task<JsonObject> SettingsAsync()
    {
        using var response = await e2e.Gateway.GetAsync("/settings");
        return (JsonObject)(await AccessTestUsers.DataAsync(response));
    }
}
