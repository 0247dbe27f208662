using System.Net.Sockets;
using System.Text;
using AiAssistant.Contracts;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.Infrastructure;

[Collection(ServersCollection.Name)]
public sealed class ServersTests(ServersFixture servers)
{
    [Theory]
    [InlineData(ResourceNames.SettingsDatabase, "settings")]
    [InlineData(ResourceNames.ChatDatabase, "chat")]
    [InlineData(ResourceNames.ContentDatabase, "content")]
    public async Task Each_database_resource_is_a_database_that_answers_a_query(string resource, string database)
    {
        await using var connection = new NpgsqlConnection(await servers.App.ConnectionStringAsync(resource));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select 1", connection);

        Assert.Equal(1, await command.ExecuteScalarAsync());
        Assert.Equal(database, connection.Database);
    }

    [Fact]
    public async Task Redis_answers_ping_over_raw_tcp()
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", servers.Redis.Port);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray());
        var buffer = new byte[16];
        var read = await stream.ReadAsync(buffer);

        Assert.Equal("+PONG\r\n", Encoding.ASCII.GetString(buffer, 0, read));
        Assert.Equal($"127.0.0.1:{servers.Redis.Port}", servers.RedisConnectionString);
    }

    [Fact]
    public async Task RabbitMq_speaks_amqp_on_its_port()
    {
        Assert.True(await AmqpHandshakeAsync(servers.RabbitMq.Port));
        Assert.Equal($"amqp://guest:guest@127.0.0.1:{servers.RabbitMq.Port}/", servers.RabbitMqConnectionString);
    }

    [Fact]
    public async Task RabbitMq_stops_completely_and_starts_again_on_the_same_port()
    {
        var rabbit = servers.RabbitMq;
        var port = rabbit.Port;

        await rabbit.StopAsync();
        Assert.False(await AmqpHandshakeAsync(port));
        // beam.smp, erl_child_setup… (epmd is a resource of its own: it keeps running)
        var left = ProcessScan.Using(rabbit.Folder).Where(p => !p.Contains("epmd", StringComparison.Ordinal)).ToList();
        Assert.True(left.Count == 0, "left running: " + string.Join("; ", left));

        await rabbit.StartAsync();
        Assert.Equal(port, rabbit.Port);
        Assert.True(await AmqpHandshakeAsync(port));
    }

    /// <summary>Sends the AMQP 0-9-1 protocol header; a broker answers with a method frame (Connection.Start).</summary>
    private static async Task<bool> AmqpHandshakeAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            var stream = client.GetStream();
            await stream.WriteAsync("AMQP\0\0\x09\x01"u8.ToArray());
            var frame = new byte[7];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await stream.ReadExactlyAsync(frame, timeout.Token);
            return frame[0] == 1; // frame type 1 = METHOD
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
    }
}
