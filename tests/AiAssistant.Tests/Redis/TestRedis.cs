using AiAssistant.ServiceDefaults.Redis;
using StackExchange.Redis;

namespace AiAssistant.Tests.Redis;

/// <summary>A multiplexer with the options the services use (<see cref="RedisDefaults.Configure"/>), for tests that build a caller by hand.</summary>
internal static class TestRedis
{
    public static async Task<ConnectionMultiplexer> ConnectAsync(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        RedisDefaults.Configure(options);
        return await ConnectionMultiplexer.ConnectAsync(options);
    }
}
