using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AiAssistant.Tests.EndToEnd;
using Xunit;

namespace AiAssistant.Tests.Access;

/// <summary>Sign-in, refresh rotation and reuse, logout, and access changes reaching every cache within 1 s.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class TokensAndSessionsTests(EndToEndFixture e2e)
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(1);

    private HttpClient Admin() => e2e.Client(e2e.GatewayUrl);
    private HttpClient Anonymous() => AccessTestUsers.Client(e2e.GatewayUrl, null);

    [Fact]
    public async Task Login_gives_a_jwt_that_names_the_user_and_users_me_answers_with_them()
    {
        using var admin = Admin();
        var user = await AccessTestUsers.UserAsync(admin, app: true);
        using var anonymous = Anonymous();
        using var response = await anonymous.PostAsJsonAsync("/auth/login", new { email = user.Email.ToUpperInvariant(), password = user.Password });
        var data = await AccessTestUsers.DataAsync(response);
        Assert.True(data["expires"]!.GetValue<long>() > 0);
        var access = data["access_token"]!.GetValue<string>();
        Assert.Equal(2, access.Count(c => c == '.'));
        Assert.NotEqual(access, data["refresh_token"]!.GetValue<string>());

        using var me = AccessTestUsers.Client(e2e.GatewayUrl, access);
        var self = await AccessTestUsers.DataAsync(await me.GetAsync("/users/me"));
        Assert.Equal(user.Id, self["id"]!.GetValue<string>());
        Assert.Equal(user.Email, self["email"]!.GetValue<string>());
        Assert.Equal("**********", self["password"]!.GetValue<string>());
        Assert.Equal("**********", self["token"]!.GetValue<string>());

        using var wrong = await anonymous.PostAsJsonAsync("/auth/login", new { email = user.Email, password = user.Password + "x" });
        Assert.Equal(401, (int)wrong.StatusCode);
        Assert.Contains("INVALID_CREDENTIALS", await wrong.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Refresh_rotates_and_a_reused_refresh_token_revokes_its_family()
    {
        using var admin = Admin();
        var user = await AccessTestUsers.UserAsync(admin, app: true);
        using var anonymous = Anonymous();
        var (_, first) = await AccessTestUsers.LoginAsync(anonymous, user.Email, user.Password);

        var rotated = await AccessTestUsers.DataAsync(await anonymous.PostAsJsonAsync("/auth/refresh", new { refresh_token = first }));
        var second = rotated["refresh_token"]!.GetValue<string>();
        Assert.NotEqual(first, second);
        using (var me = AccessTestUsers.Client(e2e.GatewayUrl, rotated["access_token"]!.GetValue<string>()))
            Assert.Equal(200, (int)(await me.GetAsync("/users/me")).StatusCode);

        // The first token again: refused, and the token that replaced it dies with it.
        Assert.Equal(401, (int)(await anonymous.PostAsJsonAsync("/auth/refresh", new { refresh_token = first })).StatusCode);
        Assert.Equal(401, (int)(await anonymous.PostAsJsonAsync("/auth/refresh", new { refresh_token = second })).StatusCode);
        Assert.NotEmpty(e2e.App.Find("A used refresh token was presented again"));
    }

    [Fact]
    public async Task Logout_ends_the_session()
    {
        using var admin = Admin();
        var user = await AccessTestUsers.UserAsync(admin, app: false);
        using var anonymous = Anonymous();
        var (_, refresh) = await AccessTestUsers.LoginAsync(anonymous, user.Email, user.Password);
        using var logout = await anonymous.PostAsJsonAsync("/auth/logout", new { refresh_token = refresh });
        Assert.Equal(204, (int)logout.StatusCode);
        Assert.Equal(401, (int)(await anonymous.PostAsJsonAsync("/auth/refresh", new { refresh_token = refresh })).StatusCode);
    }

    [Fact]
    public async Task A_suspended_users_jwt_and_static_token_are_refused_within_1_s_at_the_gateway_and_at_each_service()
    {
        using var admin = Admin();
        var user = await AccessTestUsers.UserAsync(admin, app: true);
        using var anonymous = Anonymous();
        var (jwt, refresh) = await AccessTestUsers.LoginAsync(anonymous, user.Email, user.Password);
        var clients = new[]
        {
            AccessTestUsers.Client(e2e.GatewayUrl, jwt), AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken),
            AccessTestUsers.Client(e2e.SettingsUrl, jwt), AccessTestUsers.Client(e2e.SettingsUrl, user.StaticToken),
        };
        // Warm every cache first.
        foreach (var c in clients) Assert.Equal(200, (int)(await c.GetAsync("/users/me")).StatusCode);
        using (var chat = AccessTestUsers.Client(e2e.ChatReplicas[0].HttpUrl, jwt))
            Assert.Equal(400, (int)(await chat.PostAsync("/ai/chat", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);

        await AccessTestUsers.DataAsync(await admin.PatchAsJsonAsync($"/users/{user.Id}", new { status = "suspended" }));

        foreach (var c in clients)
            using (c)
                Assert.True(await AccessTestUsers.BecomesAsync(c, "/users/me", 401, Within), $"{c.BaseAddress} still lets the suspended user in");
        using (var chat = AccessTestUsers.Client(e2e.ChatReplicas[0].HttpUrl, jwt))
        {
            // The replica has its own cache: it too must refuse within the bound.
            var suspended = System.Diagnostics.Stopwatch.StartNew();
            int status;
            do status = (int)(await chat.PostAsync("/ai/chat", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode;
            while (status != 401 && suspended.Elapsed < Within);
            Assert.Equal(401, status);
        }
        // Suspension also ended the sessions, and signing in says why.
        Assert.Equal(401, (int)(await anonymous.PostAsJsonAsync("/auth/refresh", new { refresh_token = refresh })).StatusCode);
        using var login = await anonymous.PostAsJsonAsync("/auth/login", new { email = user.Email, password = user.Password });
        Assert.Equal(401, (int)login.StatusCode);
        Assert.Contains("USER_SUSPENDED", await login.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_changed_static_token_is_refused_within_1_s_and_the_new_one_works()
    {
        using var admin = Admin();
        var user = await AccessTestUsers.UserAsync(admin, app: true);
        using var viaGateway = AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);
        using var viaChat = AccessTestUsers.Client(e2e.ChatReplicas[^1].HttpUrl, user.StaticToken);
        Assert.Equal(200, (int)(await viaGateway.GetAsync("/users/me")).StatusCode);
        Assert.Equal(200, (int)(await viaGateway.GetAsync("/ai/models")).StatusCode);
        Assert.Equal(200, (int)(await viaChat.GetAsync("/ai/models")).StatusCode);

        var replacement = user.StaticToken + "-new";
        await AccessTestUsers.DataAsync(await admin.PatchAsJsonAsync($"/users/{user.Id}", new { token = replacement }));

        Assert.True(await AccessTestUsers.BecomesAsync(viaGateway, "/users/me", 401, Within), "the gateway still takes the old token");
        Assert.True(await AccessTestUsers.BecomesAsync(viaChat, "/ai/models", 401, Within), "a chat replica still takes the old token");
        using var renewed = AccessTestUsers.Client(e2e.GatewayUrl, replacement);
        Assert.Equal(200, (int)(await renewed.GetAsync("/users/me")).StatusCode);
    }

    [Fact]
    public async Task Taking_app_access_away_from_a_role_closes_chat_within_1_s()
    {
        using var admin = Admin();
        var policy = await AccessTestUsers.PolicyAsync(admin, app: true);
        var role = await AccessTestUsers.RoleAsync(admin, policy);
        var email = AccessTestUsers.Unique("flip-") + "@example.com";
        var token = AccessTestUsers.Unique("static-token-");
        await AccessTestUsers.DataAsync(await admin.PostAsJsonAsync("/users", new { email, password = "secret-pw-1", role, token }));
        using var client = AccessTestUsers.Client(e2e.GatewayUrl, token);
        Assert.Equal(200, (int)(await client.GetAsync("/ai/models")).StatusCode);

        await AccessTestUsers.DataAsync(await admin.PatchAsJsonAsync($"/policies/{policy}", new { app_access = false }));
        Assert.True(await AccessTestUsers.BecomesAsync(client, "/ai/models", 403, Within));
        Assert.NotEmpty(e2e.App.Find("Access changed (policies)"));
    }

    [Fact]
    public async Task An_app_user_chats_and_the_tools_run_as_that_user()
    {
        await e2e.UseNewKeyAsync();
        using var admin = Admin();
        var user = await AccessTestUsers.UserAsync(admin, app: true);
        using var client = AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);
        e2e.Simulator.Enqueue(AiAssistant.ProviderSimulator.SimulatedReply.Text("Hello, user."));
        var stream = await EndToEndFixture.ChatAsync(client, EndToEndFixture.ChatBody("Hi"));
        Assert.True(stream.Done);
        Assert.Equal("Hello, user.", stream.Text);
    }

    [Fact]
    public async Task Users_me_changes_own_name_and_password_only_with_the_current_one()
    {
        using var admin = Admin();
        var user = await AccessTestUsers.UserAsync(admin, app: false);
        using var me = AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);
        var named = await AccessTestUsers.DataAsync(await me.PatchAsJsonAsync("/users/me", new { first_name = "Ada" }));
        Assert.Equal("Ada", named["first_name"]!.GetValue<string>());

        using var noCurrent = await me.PatchAsJsonAsync("/users/me", new { password = "new-password-1" });
        Assert.Equal(400, (int)noCurrent.StatusCode);
        Assert.Contains("current_password", await noCurrent.Content.ReadAsStringAsync());
        using var roleChange = await me.PatchAsJsonAsync("/users/me", new { role = (string?)null });
        Assert.Equal(400, (int)roleChange.StatusCode);

        await AccessTestUsers.DataAsync(await me.PatchAsJsonAsync("/users/me", new { password = "new-password-1", current_password = user.Password }));
        using var anonymous = Anonymous();
        Assert.Equal(401, (int)(await anonymous.PostAsJsonAsync("/auth/login", new { email = user.Email, password = user.Password })).StatusCode);
        await AccessTestUsers.LoginAsync(anonymous, user.Email, "new-password-1");
    }

    [Fact]
    public async Task Too_many_failed_logins_for_one_email_are_a_429_with_retry_after()
    {
        using var anonymous = Anonymous();
        var email = AccessTestUsers.Unique("victim-") + "@example.com";
        HttpResponseMessage? last = null;
        for (var i = 0; i < 11; i++)
        {
            last?.Dispose();
            last = await anonymous.PostAsJsonAsync("/auth/login", new { email, password = "wrong" });
        }
        using (last)
        {
            Assert.Equal(429, (int)last!.StatusCode);
            Assert.True(last.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is missing");
            Assert.Contains("REQUESTS_EXCEEDED", await last.Content.ReadAsStringAsync());
        }
    }
}
