using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace AiAssistant.ServiceDefaults.Redis;

/// <summary>A RESP2 reply: simple string, error, integer, bulk string (null when absent) or array.</summary>
public readonly record struct RespValue(char Kind, string? Text, long Integer, RespValue[]? Items)
{
    public bool IsNull => Kind is '$' or '*' && Text is null && Items is null;
}

public sealed class RedisException(string message) : Exception(message);

/// <summary>The few Redis commands the services use; one interface so tests and a real client can swap.</summary>
public interface IRedis
{
    Task<RespValue> ExecuteAsync(string[] command, CancellationToken ct = default);
    Task<string?> GetAsync(string key, CancellationToken ct = default);
    Task SetAsync(string key, string value, TimeSpan? ttl = null, CancellationToken ct = default);
    Task<long> IncrAsync(string key, CancellationToken ct = default);
    Task<long> DelAsync(string key, CancellationToken ct = default);
    Task<bool> PingAsync(CancellationToken ct = default);
    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> only when it is greater than the stored number.</summary>
    Task<bool> SetIfGreaterAsync(string key, long value, CancellationToken ct = default);
}

/// <summary>
/// A small RESP client standing in for StackExchange.Redis (not in the package source): a pool of connections,
/// one command in flight per connection, and a fresh connection (one retry) when Redis went away and came back.
/// </summary>
public sealed class RedisClient : IRedis, IAsyncDisposable
{
    private const string SetIfGreaterScript =
        "local c = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) return 1 end return 0";

    private readonly string _host;
    private readonly int _port;
    private readonly ConcurrentBag<RedisConnection> _idle = new();
    private readonly int _maxIdle;
    private readonly TimeSpan _timeout;

    public RedisClient(string connectionString, int maxIdle = 16, TimeSpan? timeout = null)
    {
        (_host, _port) = Parse(connectionString);
        _maxIdle = maxIdle;
        _timeout = timeout ?? TimeSpan.FromSeconds(2);
    }

    /// <summary>Accepts <c>host:port</c> (Aspire's shape) or <c>redis://host:port</c>.</summary>
    public static (string Host, int Port) Parse(string connectionString)
    {
        var s = connectionString.Split(',')[0].Trim();
        if (s.StartsWith("redis://", StringComparison.OrdinalIgnoreCase)) s = s[8..].TrimEnd('/');
        var colon = s.LastIndexOf(':');
        if (colon < 0) return (s, 6379);
        if (!int.TryParse(s[(colon + 1)..], out var port))
            throw new ArgumentException("The Redis connection string must look like host:port.");
        return (s[..colon], port);
    }

    public async Task<RespValue> ExecuteAsync(string[] command, CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_timeout);
        for (var attempt = 0; ; attempt++)
        {
            RedisConnection? connection = null;
            var reused = _idle.TryTake(out connection);
            try
            {
                connection ??= await RedisConnection.OpenAsync(_host, _port, timeout.Token);
                var reply = await connection.SendAsync(command, timeout.Token);
                Return(connection);
                if (reply.Kind == '-') throw new RedisException($"Redis refused {command[0]}: {reply.Text}");
                return reply;
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or EndOfStreamException)
            {
                connection?.Dispose();
                // A pooled connection may have died with a Redis restart: drop the pool and try once on a new one.
                if (attempt == 0 && reused)
                {
                    while (_idle.TryTake(out var stale)) stale.Dispose();
                    continue;
                }
                throw new RedisException($"Redis at {_host}:{_port} is unreachable ({e.GetType().Name}).");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                connection?.Dispose();
                throw new RedisException($"Redis at {_host}:{_port} did not answer within {_timeout.TotalSeconds:0.#} s.");
            }
            catch
            {
                connection?.Dispose();
                throw;
            }
        }
    }

    public async Task<string?> GetAsync(string key, CancellationToken ct = default) =>
        (await ExecuteAsync(["GET", key], ct)).Text;

    public async Task SetAsync(string key, string value, TimeSpan? ttl = null, CancellationToken ct = default) =>
        await ExecuteAsync(ttl is { } t ? ["SET", key, value, "PX", ((long)t.TotalMilliseconds).ToString()] : ["SET", key, value], ct);

    public async Task<long> IncrAsync(string key, CancellationToken ct = default) =>
        (await ExecuteAsync(["INCR", key], ct)).Integer;

    public async Task<long> DelAsync(string key, CancellationToken ct = default) =>
        (await ExecuteAsync(["DEL", key], ct)).Integer;

    public async Task<bool> PingAsync(CancellationToken ct = default) =>
        (await ExecuteAsync(["PING"], ct)).Text == "PONG";

    public async Task<bool> SetIfGreaterAsync(string key, long value, CancellationToken ct = default) =>
        (await ExecuteAsync(["EVAL", SetIfGreaterScript, "1", key, value.ToString()], ct)).Integer == 1;

    private void Return(RedisConnection connection)
    {
        if (_idle.Count < _maxIdle) _idle.Add(connection);
        else connection.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var c)) c.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>One TCP connection speaking RESP2.</summary>
internal sealed class RedisConnection : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly BufferedStream _stream;

    private RedisConnection(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = new BufferedStream(tcp.GetStream(), 8192);
    }

    public static async Task<RedisConnection> OpenAsync(string host, int port, CancellationToken ct)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, ct);
            return new RedisConnection(tcp);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    public async Task<RespValue> SendAsync(string[] command, CancellationToken ct)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(command.Length).Append("\r\n");
        foreach (var arg in command)
            sb.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(sb.ToString()), ct);
        await _stream.FlushAsync(ct);
        return await ReadAsync(ct);
    }

    private async Task<RespValue> ReadAsync(CancellationToken ct)
    {
        var line = await ReadLineAsync(ct);
        var kind = line[0];
        var rest = line[1..];
        switch (kind)
        {
            case '+':
            case '-':
                return new RespValue(kind, rest, 0, null);
            case ':':
                return new RespValue(kind, null, long.Parse(rest), null);
            case '$':
            {
                var length = int.Parse(rest);
                if (length < 0) return new RespValue('$', null, 0, null);
                var buffer = new byte[length + 2];
                await _stream.ReadExactlyAsync(buffer, ct);
                return new RespValue('$', Encoding.UTF8.GetString(buffer, 0, length), 0, null);
            }
            case '*':
            {
                var count = int.Parse(rest);
                if (count < 0) return new RespValue('*', null, 0, null);
                var items = new RespValue[count];
                for (var i = 0; i < count; i++) items[i] = await ReadAsync(ct);
                return new RespValue('*', null, 0, items);
            }
            default:
                throw new IOException($"Unexpected RESP reply type '{kind}'.");
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        var bytes = new List<byte>(32);
        var one = new byte[1];
        while (true)
        {
            if (await _stream.ReadAsync(one, ct) == 0) throw new EndOfStreamException("Redis closed the connection.");
            if (one[0] == '\n' && bytes.Count > 0 && bytes[^1] == '\r')
                return Encoding.UTF8.GetString(bytes.ToArray(), 0, bytes.Count - 1);
            bytes.Add(one[0]);
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }
}
