using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Mcp;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AiAssistant.Tests.McpServer;

/// <summary>When the per-replica MCP settings are fetched again: a newer announced version, age without Redis, and Settings away.</summary>
public sealed class McpSettingsTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Settings' gRPC client answering what the test says, counting the calls.</summary>
    private sealed class FakeSettings : AiSettings.AiSettingsClient
    {
        public McpConfig Config { get; set; } = new() { Version = 1 };
        public bool Down { get; set; }
        public int Calls { get; private set; }

        public override AsyncUnaryCall<McpConfig> GetMcpConfigAsync(GetMcpConfigRequest request, CallOptions options)
        {
            Calls++;
            var answer = Down ? Task.FromException<McpConfig>(new RpcException(new Status(StatusCode.Unavailable, "down"))) : Task.FromResult(Config.Clone());
            return new AsyncUnaryCall<McpConfig>(answer, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }
    }

    private readonly ManualTime _time = new();
    private readonly FakeSettings _settings = new();
    private McpSettings NewCache() => new(_settings, _time, NullLogger<McpSettings>.Instance);

    [Fact]
    public async Task A_copy_is_kept_until_Redis_announces_a_newer_version()
    {
        var cache = NewCache();
        cache.Announce(1);
        _settings.Config = new McpConfig { Version = 1, Enabled = false };
        Assert.False((await cache.GetAsync(default)).Enabled);
        _time.Now += TimeSpan.FromSeconds(5);
        await cache.GetAsync(default);
        Assert.Equal(1, _settings.Calls);

        _settings.Config = new McpConfig { Version = 2, Enabled = true, AllowDeletes = true, PromptsCollection = "ai_prompts" };
        Assert.False((await cache.GetAsync(default)).Enabled); // not announced yet
        cache.Announce(2);
        var now = await cache.GetAsync(default);
        Assert.True(now.Enabled);
        Assert.Equal("ai_prompts", now.PromptsCollection);
        Assert.Equal(2, _settings.Calls);
    }

    [Fact]
    public async Task A_version_Redis_has_and_the_database_has_not_is_fetched_once_not_on_every_read()
    {
        var cache = NewCache();
        cache.Announce(9);
        _settings.Config = new McpConfig { Version = 3 };
        await cache.GetAsync(default);
        await cache.GetAsync(default);
        Assert.Equal(1, _settings.Calls);
        cache.Announce(10);
        await cache.GetAsync(default);
        Assert.Equal(2, _settings.Calls);
    }

    [Fact]
    public async Task Without_Redis_a_copy_older_than_a_second_is_fetched_again()
    {
        var cache = NewCache();
        cache.Announce(1);
        await cache.GetAsync(default);
        cache.RedisUnreadable();
        _time.Now += TimeSpan.FromMilliseconds(900);
        await cache.GetAsync(default);
        Assert.Equal(1, _settings.Calls);
        _time.Now += TimeSpan.FromMilliseconds(200);
        _settings.Config = new McpConfig { Version = 1, Enabled = true };
        Assert.True((await cache.GetAsync(default)).Enabled);
        Assert.Equal(2, _settings.Calls);
    }

    [Fact]
    public async Task Before_Redis_was_ever_read_copies_expire_by_age_and_with_Redis_after_the_long_age()
    {
        var cache = NewCache();
        await cache.GetAsync(default);
        _time.Now += McpSettings.MaxAgeWithoutRedis;
        await cache.GetAsync(default);
        Assert.Equal(2, _settings.Calls);
        cache.Announce(1);
        _time.Now += McpSettings.MaxAge - TimeSpan.FromSeconds(1);
        await cache.GetAsync(default);
        Assert.Equal(2, _settings.Calls);
        _time.Now += TimeSpan.FromSeconds(1);
        await cache.GetAsync(default);
        Assert.Equal(3, _settings.Calls);
    }

    [Fact]
    public async Task Settings_away_is_503_naming_it_without_a_copy_and_the_last_copy_with_one()
    {
        var cache = NewCache();
        _settings.Down = true;
        var e = await Assert.ThrowsAsync<DirectusException>(async () => await cache.GetAsync(default));
        Assert.Equal(503, e.Status);
        Assert.Equal(ErrorCodes.ServiceUnavailable, e.Code);
        Assert.Equal("settings", e.Extensions!["service"]);

        _settings.Down = false;
        _settings.Config = new McpConfig { Version = 4, Enabled = true };
        cache.Announce(4);
        await cache.GetAsync(default);
        _settings.Down = true;
        cache.Announce(5);
        Assert.True((await cache.GetAsync(default)).Enabled);
    }
}
