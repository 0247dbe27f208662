using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.ProviderSimulator;
using AiAssistant.Tests.Access;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// The usage ledger and the per-user limits through the gateway and on each of the two Chat replicas: every turn
/// recorded with the provider's figures and the catalog's price, <c>GET /ai/usage</c> for a user and an admin, and
/// the limits of Settings → AI holding across both replicas (Redis).
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class UsageEndToEndTests(EndToEndFixture e2e)
{
    [Fact]
    public async Task Every_turn_is_in_the_ledger_and_a_user_reads_only_their_own()
    {
        const string model = "gpt-5.4-mini"; // the catalog's price: 0.75 / 4.5 USD per million tokens
        await e2e.EnableBuiltInProviderAsync("openai", model);
        var user = await AccessTestUsers.UserAsync(e2e.Gateway, app: true);
        using var client = AccessTestUsers.Client(e2e.GatewayUrl, user.StaticToken);
        var adminId = JsonNode.Parse(await e2e.Gateway.GetStringAsync("/users/me"))!["data"]!["id"]!.GetValue<string>();

        e2e.Simulator.Enqueue(SimulatedReply.Text("Counted.") with { Usage = new SimulatedUsage(1000, 200, CachedTokens: 300) });
        var stream = await EndToEndFixture.ChatAsync(client, EndToEndFixture.ChatBody("openai", model, "Count me"));
        Assert.Equal(1200, stream.Single("data-usage")["data"]!["totalTokens"]!.GetValue<long>());
        e2e.Simulator.Enqueue(SimulatedReply.Text("Counted too.") with { Usage = new SimulatedUsage(500, 4) });
        await EndToEndFixture.ChatAsync(e2e.Gateway, EndToEndFixture.ChatBody("openai", model, "Count the admin"));

        // the ledger is written once [DONE] is out, off the stream's path: it shows up shortly after
        var mine = await UsageWhenAsync(client, "", rows => rows.Count == 1);
        var row = Assert.Single(mine["data"]!.AsArray())!;
        Assert.Equal(user.Id, row["user"]!.GetValue<string>());
        Assert.Equal(("openai", model, 1L, 1000L, 200L, 1200L, 300L), (row["provider"]!.GetValue<string>(), row["model"]!.GetValue<string>(),
            row["requests"]!.GetValue<long>(), row["inputTokens"]!.GetValue<long>(), row["outputTokens"]!.GetValue<long>(),
            row["totalTokens"]!.GetValue<long>(), row["cacheReadTokens"]!.GetValue<long>()));
        Assert.Equal(0.00165m, row["cost"]!.GetValue<decimal>());
        Assert.Equal(0.00165m, mine["meta"]!["totals"]!["cost"]!.GetValue<decimal>());

        // a user may not read someone else's; an admin reads everyone's, and filters
        using (var other = await client.GetAsync($"/ai/usage?user={adminId}"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
            Assert.Equal("FORBIDDEN", await EndToEndFixture.ErrorCodeAsync(other));
        }
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        var all = await UsageWhenAsync(e2e.Gateway, $"?model={model}&from={today}&to={today}",
            rows => rows.Any(r => r!["user"]!.GetValue<string>() == adminId) && rows.Any(r => r!["user"]!.GetValue<string>() == user.Id));
        Assert.All(all["data"]!.AsArray(), r => Assert.Equal(model, r!["model"]!.GetValue<string>()));
        var theirs = await UsageWhenAsync(e2e.Gateway, $"?filter[user][_eq]={user.Id}", rows => rows.Count == 1);
        Assert.Equal(1200, theirs["meta"]!["totals"]!["totalTokens"]!.GetValue<long>());
        var before = await UsageWhenAsync(client, $"?to={DateTime.UtcNow.AddDays(-1):yyyy-MM-dd}", _ => true);
        Assert.Empty(before["data"]!.AsArray());
        Assert.Equal(0, before["meta"]!["totals"]!["requests"]!.GetValue<long>());

        // what the ledger holds, read past every service
        Assert.Equal(1, await e2e.ChatScalarAsync($"select count(*) from ai_usage where \"user\" = '{user.Id}' and outcome = 'ok' and endpoint = 'chat'"));
    }

    [Theory]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?to=2026-02-30", "to")]
    [InlineData("?from=2026-12-02&to=2026-12-01", "from")]
    [InlineData("?user=someone", "user")]
    [InlineData("?filter[cost][_gt]=1", "filter[cost][_gt]")]
    public async Task A_bad_parameter_is_a_400_naming_it(string query, string parameter)
    {
        using var response = await e2e.Gateway.GetAsync("/ai/usage" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!;
        Assert.Equal("INVALID_QUERY", error["extensions"]!["code"]!.GetValue<string>());
        Assert.Equal(parameter, error["extensions"]!["parameter"]!.GetValue<string>());
    }

    [Fact]
    public async Task Limits_hold_across_both_replicas_with_429_and_retry_after()
    {
        var (hurried, hurriedRole) = await UserOfNewRoleAsync();
        var (thrifty, thriftyRole) = await UserOfNewRoleAsync();
        // the limits and a new key in one change: once every replica uses the key, it has the limits too
        var key = e2e.NewKey();
        await e2e.PatchSettingsAsync(new
        {
            ai_openai_compatible_name = "simulator",
            ai_openai_compatible_base_url = e2e.Simulator.BaseUrl,
            ai_openai_compatible_api_key = key,
            ai_usage_limits = new object[]
            {
                new { role = hurriedRole, requests_per_minute = 3 },
                new { role = thriftyRole, tokens_per_day = 1000 },
            },
        });
        Assert.Empty(await e2e.ReplicasNotUsingAsync(key, TimeSpan.FromSeconds(10)));
        try
        {
            var (a, b) = (e2e.ChatReplicas[0].HttpUrl, e2e.ChatReplicas[1].HttpUrl);
            // three requests a minute, counted together by both replicas
            foreach (var replica in new[] { a, b, a })
            {
                using var allowed = await ChatOnAsync(replica, hurried.StaticToken, "One more");
                Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            }
            e2e.Simulator.ClearRequests();
            using (var refused = await ChatOnAsync(b, hurried.StaticToken, "Refused " + Guid.NewGuid()))
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
                var seconds = long.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(seconds, 1, 60);
                var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["errors"]![0]!;
                Assert.Equal("REQUESTS_EXCEEDED", error["extensions"]!["code"]!.GetValue<string>());
                Assert.Contains("at most 3 per minute", error["message"]!.GetValue<string>());
            }
            Assert.DoesNotContain(e2e.Simulator.Requests, r => r.Body.Contains("Refused", StringComparison.Ordinal));
            // the gateway answers the same, and other roles are not held back
            using (var viaGateway = await ChatOnAsync(e2e.GatewayUrl, hurried.StaticToken, "Again"))
                Assert.Equal(HttpStatusCode.TooManyRequests, viaGateway.StatusCode);
            using (var admin = await ChatOnAsync(e2e.GatewayUrl, null, "Admin turn"))
                Assert.Equal(HttpStatusCode.OK, admin.StatusCode);

            // tokens per day: a turn of 1200 tokens is let through (the limit is not reached before it), the next is not
            e2e.Simulator.Enqueue(SimulatedReply.Text("Expensive.") with { Usage = new SimulatedUsage(800, 400) });
            using (var first = await ChatOnAsync(a, thrifty.StaticToken, "Expensive question"))
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            using var thriftyClient = AccessTestUsers.Client(e2e.GatewayUrl, thrifty.StaticToken);
            await UsageWhenAsync(thriftyClient, "", rows => rows.Count == 1);
            // the day's count follows the ledger's write (Redis, right after PostgreSQL)
            var clock = System.Diagnostics.Stopwatch.StartNew();
            HttpResponseMessage next;
            while (true)
            {
                next = await ChatOnAsync(b, thrifty.StaticToken, "Another question");
                if (next.StatusCode != HttpStatusCode.OK || clock.Elapsed > TimeSpan.FromSeconds(5)) break;
                next.Dispose();
                await Task.Delay(50);
            }
            using (next)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, next.StatusCode);
                var seconds = long.Parse(next.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(seconds, 1, 86_400);
                var message = JsonNode.Parse(await next.Content.ReadAsStringAsync())!["errors"]![0]!["message"]!.GetValue<string>();
                Assert.Contains("Daily token limit reached", message);
                Assert.Contains("of 1,000 tokens", message);
            }
        }
        finally
        {
            await e2e.PatchSettingsAsync(new { ai_usage_limits = Array.Empty<object>() });
        }
    }

    [Fact]
    public async Task A_limit_for_a_role_that_does_not_exist_is_refused_and_nothing_changes()
    {
        var before = JsonNode.Parse(await e2e.Gateway.GetStringAsync("/settings"))!["data"]!["ai_usage_limits"]!.ToJsonString();
        using var response = await e2e.Gateway.PatchAsJsonAsync("/settings", new
        {
            ai_system_prompt = "Changed with the limits",
            ai_usage_limits = new object[] { new { role = Guid.NewGuid(), requests_per_minute = 5 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!;
        Assert.Equal("ai_usage_limits", error["extensions"]!["field"]!.GetValue<string>());
        Assert.Contains("does not exist", error["message"]!.GetValue<string>());
        var after = JsonNode.Parse(await e2e.Gateway.GetStringAsync("/settings"))!["data"]!;
        Assert.Equal(before, after["ai_usage_limits"]!.ToJsonString());
        Assert.NotEqual("Changed with the limits", after["ai_system_prompt"]?.GetValue<string>());
    }

    private async Task<(TestUser User, string Role)> UserOfNewRoleAsync()
    {
        var role = await AccessTestUsers.RoleAsync(e2e.Gateway, await AccessTestUsers.PolicyAsync(e2e.Gateway, app: true));
        return (await AccessTestUsers.UserAsync(e2e.Gateway, role), role);
    }

    /// <summary>A chat turn on one address as a user's static token (null: the admin), read to its end.</summary>
    private async Task<HttpResponseMessage> ChatOnAsync(string baseUrl, string? token, string text)
    {
        using var client = token is null ? e2e.Client(baseUrl) : AccessTestUsers.Client(baseUrl, token);
        var response = await client.PostAsJsonAsync("/ai/chat", EndToEndFixture.ChatBody(text));
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>Polls <c>GET /ai/usage{query}</c> until its rows satisfy <paramref name="until"/> (the ledger is written just after a turn).</summary>
    private static async Task<JsonNode> UsageWhenAsync(HttpClient client, string query, Func<JsonArray, bool> until)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync("/ai/usage" + query);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"GET /ai/usage{query} answered {(int)response.StatusCode}: {text}");
            var body = JsonNode.Parse(text)!;
            if (until(body["data"]!.AsArray())) return body;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"GET /ai/usage{query} never showed what was expected: {text}");
            await Task.Delay(50);
        }
    }
}
