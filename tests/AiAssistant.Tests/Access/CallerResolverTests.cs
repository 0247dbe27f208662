using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Settings.Access;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Redis;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using Xunit;

namespace AiAssistant.Tests.Access;

/// <summary>The caller caches and the login limiter against a real Redis.</summary>
[Collection(ServersCollection.Name)]
public sealed class CallerResolverTests(ServersFixture servers)
{
    private sealed class Directory : IAccessDirectory
    {
        public Dictionary<string, UserAccess> ByToken { get; } = new();
        public int Calls;

        public Task<UserAccess?> FindUserAsync(string userId, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(ByToken.Values.FirstOrDefault(u => u.Id == userId));
        }

        public Task<UserAccess?> FindByStaticTokenAsync(string tokenSha256, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(ByToken.GetValueOrDefault(tokenSha256));
        }
    }

    private static HttpContext Request(string token)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Authorization = "Bearer " + token;
        return context;
    }

    private static CallerResolver Resolver(Directory directory, IConnectionMultiplexer redis) =>
        new(new AccessTokens(new byte[32], TimeSpan.FromMinutes(15), TimeProvider.System), directory, redis, TimeProvider.System,
            NullLogger<CallerResolver>.Instance);

    [Fact]
    public async Task A_static_token_is_looked_up_once_shared_through_redis_and_dropped_on_a_new_version()
    {
        await using var redis = await TestRedis.ConnectAsync(servers.RedisConnectionString);
        var version = Random.Shared.NextInt64(1_000_000, 2_000_000);
        var token = "static-" + Guid.NewGuid();
        var directory = new Directory();
        directory.ByToken[CallerResolver.Sha256Hex(token)] = new UserAccess(Guid.NewGuid().ToString(), null, false, true, "active");

        var gateway = Resolver(directory, redis);
        gateway.UseVersion(version);
        Assert.True((await gateway.AuthenticateAsync(Request(token)))!.App);
        Assert.NotNull(await gateway.AuthenticateAsync(Request(token)));
        Assert.Equal(1, directory.Calls);

        // Another service at the same version finds it in Redis.
        var tools = Resolver(directory, redis);
        tools.UseVersion(version);
        Assert.NotNull(await tools.AuthenticateAsync(Request(token)));
        Assert.Equal(1, directory.Calls);

        // Suspended, and the version moves on: both refuse at once.
        directory.ByToken[CallerResolver.Sha256Hex(token)] = directory.ByToken[CallerResolver.Sha256Hex(token)] with { Status = "suspended" };
        gateway.UseVersion(version + 1);
        tools.UseVersion(version + 1);
        var e = await Assert.ThrowsAsync<DirectusException>(async () => await gateway.AuthenticateAsync(Request(token)));
        Assert.Equal(401, e.Status);
        await Assert.ThrowsAsync<DirectusException>(async () => await tools.AuthenticateAsync(Request(token)));

        // An unknown token is a 401 and is not written to Redis.
        await Assert.ThrowsAsync<DirectusException>(async () => await gateway.AuthenticateAsync(Request("nobody-" + Guid.NewGuid())));
        Assert.Null(await gateway.AuthenticateAsync(new DefaultHttpContext()));
    }

    [Fact]
    public async Task Failed_logins_past_the_limit_per_address_or_email_are_refused_with_a_retry_time()
    {
        await using var redis = await TestRedis.ConnectAsync(servers.RedisConnectionString);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:LoginFailuresPerEmail"] = "2", ["Auth:LoginFailuresPerAddress"] = "3", ["Auth:LoginWindowSeconds"] = "60",
        }).Build();
        var limit = new LoginRateLimit(redis, configuration, NullLogger<LoginRateLimit>.Instance);
        var address = "198.51.100." + Random.Shared.Next(1, 250) + "-" + Guid.NewGuid().ToString("N")[..6];

        // Per address: three different emails fail, the fourth attempt (any email) is refused.
        for (var i = 0; i < 3; i++)
        {
            var email = $"x{i}-{Guid.NewGuid():N}@example.com";
            await limit.CheckAsync(email, address, CancellationToken.None);
            await limit.FailedAsync(email, address, CancellationToken.None);
        }
        var refused = await Assert.ThrowsAsync<LoginRateLimit.RateLimited>(() => limit.CheckAsync($"new-{Guid.NewGuid():N}@example.com", address, CancellationToken.None));
        Assert.InRange(refused.RetryAfterSeconds, 1, 60);

        // Per email: two failures from two addresses, the third attempt is refused whatever the address (and the case).
        var victim = $"victim-{Guid.NewGuid():N}@example.com";
        await limit.FailedAsync(victim, "203.0.113.1-" + Guid.NewGuid(), CancellationToken.None);
        await limit.FailedAsync(victim, "203.0.113.2-" + Guid.NewGuid(), CancellationToken.None);
        await Assert.ThrowsAsync<LoginRateLimit.RateLimited>(() => limit.CheckAsync(victim.ToUpperInvariant(), "203.0.113.3-" + Guid.NewGuid(), CancellationToken.None));
        await limit.CheckAsync($"other-{Guid.NewGuid():N}@example.com", "203.0.113.4-" + Guid.NewGuid(), CancellationToken.None);
    }

    [Fact]
    public async Task Without_redis_callers_are_still_authenticated_and_sign_in_is_not_limited()
    {
        // Nothing listens on port 1: the multiplexer never connects, and every command fails at once.
        await using var redis = await TestRedis.ConnectAsync("127.0.0.1:1");
        Assert.False(redis.IsConnected);
        var token = "static-" + Guid.NewGuid();
        var directory = new Directory();
        directory.ByToken[CallerResolver.Sha256Hex(token)] = new UserAccess(Guid.NewGuid().ToString(), null, true, true, "active");

        var resolver = Resolver(directory, redis);
        Assert.True((await resolver.AuthenticateAsync(Request(token)))!.Admin);
        await Assert.ThrowsAsync<DirectusException>(async () => await resolver.AuthenticateAsync(Request("nobody-" + Guid.NewGuid())));

        var limit = new LoginRateLimit(redis, new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:LoginFailuresPerEmail"] = "1",
        }).Build(), NullLogger<LoginRateLimit>.Instance);
        await limit.FailedAsync("a@example.com", "198.51.100.1", CancellationToken.None);
        await limit.FailedAsync("a@example.com", "198.51.100.1", CancellationToken.None);
        await limit.CheckAsync("a@example.com", "198.51.100.1", CancellationToken.None);
    }
}
