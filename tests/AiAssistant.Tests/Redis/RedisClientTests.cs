using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.Redis;

/// <summary>The RESP client against a real redis-server.</summary>
[Collection(ServersCollection.Name)]
public sealed class RedisClientTests(ServersFixture servers)
{
    [Fact]
    public async Task Commands_round_trip()
    {
        await using var redis = new RedisClient(servers.RedisConnectionString);
        var key = "test:" + Guid.NewGuid();
        Assert.True(await redis.PingAsync());
        Assert.Null(await redis.GetAsync(key));
        await redis.SetAsync(key, "välue with spaces\r\nand a line break");
        Assert.Equal("välue with spaces\r\nand a line break", await redis.GetAsync(key));
        Assert.Equal(1, await redis.DelAsync(key));
        Assert.Equal(1, await redis.IncrAsync(key));
        Assert.Equal(2, await redis.IncrAsync(key));
        var array = await redis.ExecuteAsync(["MGET", key, key + ":missing"]);
        Assert.Equal("2", array.Items![0].Text);
        Assert.True(array.Items[1].IsNull);
    }

    [Fact]
    public async Task Set_with_a_time_to_live_expires()
    {
        await using var redis = new RedisClient(servers.RedisConnectionString);
        var key = "test:" + Guid.NewGuid();
        await redis.SetAsync(key, "v", TimeSpan.FromSeconds(30));
        var ttl = (await redis.ExecuteAsync(["PTTL", key])).Integer;
        Assert.InRange(ttl, 1, 30_000);
    }

    [Fact]
    public async Task Set_if_greater_only_moves_forward()
    {
        await using var redis = new RedisClient(servers.RedisConnectionString);
        var key = "test:" + Guid.NewGuid();
        Assert.True(await redis.SetIfGreaterAsync(key, 5));
        Assert.False(await redis.SetIfGreaterAsync(key, 3));
        Assert.Equal("5", await redis.GetAsync(key));
        Assert.True(await redis.SetIfGreaterAsync(key, 6));
        Assert.Equal("6", await redis.GetAsync(key));
    }

    [Fact]
    public async Task Concurrent_commands_share_the_pool()
    {
        await using var redis = new RedisClient(servers.RedisConnectionString);
        var key = "test:" + Guid.NewGuid();
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => redis.IncrAsync(key)));
        Assert.Equal("200", await redis.GetAsync(key));
    }

    [Fact]
    public async Task An_error_reply_is_an_exception_naming_the_command()
    {
        await using var redis = new RedisClient(servers.RedisConnectionString);
        var e = await Assert.ThrowsAsync<RedisException>(() => redis.ExecuteAsync(["NOSUCHCOMMAND"]));
        Assert.Contains("NOSUCHCOMMAND", e.Message);
    }

    [Fact]
    public async Task Reconnects_after_a_redis_restart()
    {
        await using var redis = new RedisClient(servers.RedisConnectionString);
        Assert.True(await redis.PingAsync());

        await servers.Redis.StopAsync();
        await Assert.ThrowsAsync<RedisException>(() => redis.PingAsync());
        await servers.Redis.StartAsync();

        Assert.True(await redis.PingAsync());
    }

    [Fact]
    public async Task An_unreachable_redis_is_a_clear_error()
    {
        await using var redis = new RedisClient("127.0.0.1:1");
        var e = await Assert.ThrowsAsync<RedisException>(() => redis.PingAsync());
        Assert.Contains("unreachable", e.Message);
    }
}
