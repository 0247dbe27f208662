using System.Net.Sockets;
using System.Text;
using AiAssistant.AppHost.Processes;
using AiAssistant.Contracts;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.Infrastructure;

[Collection(ServersCollection.Name)]
public sealed class ServersTests(ServersFixture servers)
{
    [Theory]
    [InlineData(ResourceNames.SettingsDatabase)]
    [InlineData(ResourceNames.ChatDatabase)]
    [InlineData(ResourceNames.ContentDatabase)]
    public async Task Postgres_answers_a_query_in_each_service_database(string database)
    {
        await using var connection = new NpgsqlConnection(servers.ConnectionString(database));
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
        Assert.Empty(ProcFs.OwnedBy(mark => mark.StartsWith(rabbit.Folder, StringComparison.Ordinal))); // epmd, beam.smp, erl_child_setup…

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
