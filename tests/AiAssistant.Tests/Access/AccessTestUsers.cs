using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AiAssistant.Tests.EndToEnd;
using Xunit;

namespace AiAssistant.Tests.Access;

/// <summary>A user made for a test through the admin API, with the password and static token it was given.</summary>
public sealed record TestUser(string Id, string Email, string Password, string StaticToken);

/// <summary>Creating policies, roles and users through the gateway as the admin, and signing in as them.</summary>
public static class AccessTestUsers
{
    public static string Unique(string prefix) => $"{prefix}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5))}";

    public static async Task<JsonNode> DataAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!["data"]!;
    }

    public static async Task<string> PolicyAsync(HttpClient admin, bool app, bool isAdmin = false)
    {
        using var response = await admin.PostAsJsonAsync("/policies", new { name = Unique("policy-"), app_access = app, admin_access = isAdmin });
        return (await DataAsync(response))["id"]!.GetValue<string>();
    }

    public static async Task<string> RoleAsync(HttpClient admin, params string[] policies)
    {
        using var response = await admin.PostAsJsonAsync("/roles", new { name = Unique("role-"), policies = policies.Select(p => new { policy = p }) });
        return (await DataAsync(response))["id"]!.GetValue<string>();
    }

    /// <summary>A user with a role holding one policy with the given flags.</summary>
    public static async Task<TestUser> UserAsync(HttpClient admin, bool app, bool isAdmin = false) =>
        await UserAsync(admin, await RoleAsync(admin, await PolicyAsync(admin, app, isAdmin)));

    /// <summary>A user whose role holds one new policy to grant permissions on, and a client signed in with its static token.</summary>
    public static async Task<(TestUser User, string Policy, HttpClient Client)> GrantableUserAsync(HttpClient admin, string baseUrl, bool app)
    {
        var policy = await PolicyAsync(admin, app);
        var user = await UserAsync(admin, await RoleAsync(admin, policy));
        return (user, policy, Client(baseUrl, user.StaticToken));
    }

    /// <summary>A user with <paramref name="role"/>, a password and a static token.</summary>
    public static async Task<TestUser> UserAsync(HttpClient admin, string role)
    {
        var email = Unique("user-") + "@example.com";
        var password = "pw-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        var token = "st-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        using var response = await admin.PostAsJsonAsync("/users", new { email, password, role, token });
        var data = await DataAsync(response);
        return new TestUser(data["id"]!.GetValue<string>(), email, password, token);
    }

    public static async Task<(string Access, string Refresh)> LoginAsync(HttpClient anonymous, string email, string password)
    {
        using var response = await anonymous.PostAsJsonAsync("/auth/login", new { email, password });
        var data = await DataAsync(response);
        return (data["access_token"]!.GetValue<string>(), data["refresh_token"]!.GetValue<string>());
    }

    public static HttpClient Client(string baseUrl, string? token)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Polls until <paramref name="path"/> answers <paramref name="expected"/>, for at most <paramref name="within"/>.</summary>
    public static async Task<bool> BecomesAsync(HttpClient client, string path, int expected, TimeSpan within)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            using var response = await client.GetAsync(path);
            if ((int)response.StatusCode == expected) return true;
            await Task.Delay(25);
        }
        while (clock.Elapsed < within);
        return false;
    }
}
