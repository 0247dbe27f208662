using System.Text.Json.Nodes;
using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.ToolLoop;
using AiAssistant.Services.Chat.Usage;
using AiAssistant.Services.Settings.Settings;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.AI;
using Xunit;

namespace AiAssistant.Tests.Usage;

/// <summary>The pure parts of the ledger and the limits: query parameters, prices, which limit applies, the settings field.</summary>
public sealed class UsageQueryTests
{
    private static UsageQuery Parse(string query) => UsageQuery.Parse(new QueryCollection(QueryHelpers.ParseQuery(query)));

    private static DirectusException Rejects(string query, string parameter)
    {
        var e = Assert.Throws<DirectusException>(() => Parse(query));
        Assert.Equal(400, e.Status);
        Assert.Equal(ErrorCodes.InvalidQuery, e.Code);
        Assert.Equal(parameter, e.Extensions!["parameter"]);
        return e;
    }

    [Fact]
    public void Simple_and_directus_filters_say_the_same()
    {
        var user = Guid.NewGuid();
        var simple = Parse($"user={user}&model=gpt-5.4&provider=openai&from=2026-12-01&to=2026-12-02");
        var directus = Parse($"filter[user][_eq]={user}&filter[model][_eq]=gpt-5.4&filter[provider][_eq]=openai&from=2026-12-01&to=2026-12-02");
        Assert.Equal(simple, directus);
        Assert.Equal(user, simple.User);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), simple.From);
        // a date as "to" takes in that whole day
        Assert.Equal(new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero), simple.To);
    }

    [Fact]
    public void A_time_with_an_offset_is_read_as_that_instant()
    {
        var q = Parse("from=2026-12-01T10:00:00%2B02:00&to=2026-12-01T09:30:00Z");
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero), q.From);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero), q.To);
    }

    [Fact]
    public void Nothing_given_means_everything() => Assert.Equal(new UsageQuery(null, null, null, null, null), Parse("limit=5&fields=*"));

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2026-12-01T10:00:00", "from")] // a time without an offset means something else on every server
    [InlineData("from=2026-12-02&to=2026-12-01", "from")]
    [InlineData("user=42", "user")]
    [InlineData("filter[cost][_gt]=1", "filter[cost][_gt]")]
    [InlineData("filter[user][_in]=a", "filter[user][_in]")]
    [InlineData("model=", "model")]
    [InlineData("model=a&model=b", "model")]
    [InlineData("model=a&filter[model][_eq]=b", "filter[model][_eq]")]
    public void A_bad_parameter_is_a_400_naming_it(string query, string parameter) => Rejects(query, parameter);

    [Fact]
    public void A_bad_date_says_what_is_wanted() =>
        Assert.Contains("ISO 8601", Rejects("to=last-week", "to").Message);

    [Fact]
    public void Cost_is_the_catalogs_price_per_million_tokens()
    {
        var prices = new ProviderModel { Id = "gpt-5.4-mini", CostInput = 0.75, CostOutput = 4.5 };
        Assert.Equal(0.00165m, UsageRecord.PriceOf(prices, 1000, 200));
        Assert.Equal(0m, UsageRecord.PriceOf(null, 1000, 200));
        Assert.Equal(0m, UsageRecord.PriceOf(new ProviderModel { CostInput = double.NaN, CostOutput = -1 }, 1000, 200));
    }

    [Fact]
    public void A_record_carries_the_turns_figures_and_only_users_are_recorded()
    {
        var usage = new TurnUsage();
        usage.Add(new UsageDetails { InputTokenCount = 1000, OutputTokenCount = 200, CachedInputTokenCount = 300 });
        var user = Guid.NewGuid();
        var record = UsageRecord.Of(DateTimeOffset.UnixEpoch, user.ToString(), null, "chat", "openai", "gpt-5.4-mini",
            new ProviderModel { CostInput = 0.75, CostOutput = 4.5 }, usage, "ok")!;
        Assert.Equal((user, 1000L, 200L, 1200L, 300L, (long?)null, 0.00165m), (record.User, record.InputTokens, record.OutputTokens,
            record.TotalTokens, record.CacheReadTokens, record.CacheCreationTokens, record.Cost));
        Assert.Null(UsageRecord.Of(DateTimeOffset.UnixEpoch, "not-a-user", null, "chat", "openai", "m", null, usage, "ok"));
    }

    [Fact]
    public void A_users_role_limit_wins_over_the_one_for_everyone_else()
    {
        var role = Guid.NewGuid().ToString();
        UsageLimit everyone = new() { Role = "", RequestsPerMinute = 5 }, theirs = new() { Role = role, RequestsPerMinute = 50 };
        Assert.Same(theirs, UsageLimiter.For([everyone, theirs], role.ToUpperInvariant()));
        Assert.Same(everyone, UsageLimiter.For([everyone, theirs], Guid.NewGuid().ToString()));
        Assert.Same(everyone, UsageLimiter.For([everyone, theirs], null));
        Assert.Null(UsageLimiter.For([theirs], null));
    }

    [Fact]
    public void The_limits_setting_is_normalised()
    {
        var role = Guid.NewGuid();
        var value = AiSettingsFields.Validate(AiSettingsFields.UsageLimits, JsonNode.Parse($$"""
            [{"role":"{{role.ToString().ToUpperInvariant()}}","requests_per_minute":10},{"role":null,"tokens_per_day":100000}]
            """))!;
        Assert.Equal($$"""[{"role":"{{role}}","requests_per_minute":10,"tokens_per_day":null},{"role":null,"requests_per_minute":null,"tokens_per_day":100000}]""",
            value.ToJsonString());
    }

    [Theory]
    [InlineData("""{"role":null}""", "must be a list")]
    [InlineData("""[{"role":"admins"}]""", "[0].role")]
    [InlineData("""[{"role":null},{}]""", "only one limit may be without a role")]
    [InlineData("""[{"requests_per_minute":0}]""", "[0].requests_per_minute")]
    [InlineData("""[{"tokens_per_day":1.5}]""", "[0].tokens_per_day")]
    [InlineData("""[{"requests_per_minute":"10"}]""", "[0].requests_per_minute")]
    [InlineData("""[{"per_hour":10}]""", "[0].per_hour")]
    public void A_bad_limit_is_a_400_on_the_field(string json, string said)
    {
        var e = Assert.Throws<DirectusException>(() => AiSettingsFields.Validate(AiSettingsFields.UsageLimits, JsonNode.Parse(json)));
        Assert.Equal(400, e.Status);
        Assert.Equal(AiSettingsFields.UsageLimits, e.Extensions!["field"]);
        Assert.Contains(said, e.Message);
    }
}
