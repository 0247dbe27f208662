using System.Net;
using System.Net.Sockets;
using AiAssistant.ServiceDefaults.Errors;
using Microsoft.Extensions.Options;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// Which addresses an import may connect to: public unicast only, unless configuration allows private networks. IPv4
/// and IPv6 are judged alike (an IPv4-mapped IPv6 address as its IPv4 address).
/// </summary>
public static class ImportAddresses
{
    /// <summary>Loopback, private, carrier-grade NAT, link-local, unique-local, unspecified, multicast, broadcast, documentation and reserved ranges.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] is 0 or 10 or 127 or >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)   // 100.64/10, carrier-grade NAT
                || (b[0] == 169 && b[1] == 254)                // link-local (cloud metadata)
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)  // IETF protocol assignments, TEST-NET-1
                || (b[0] == 198 && b[1] is 18 or 19)            // benchmarking
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        if (address.Equals(IPAddress.IPv6Loopback) || address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal
            || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal || address.IsIPv6Teredo)
            return false;
        var v6 = address.GetAddressBytes();
        // ::/96 (IPv4-compatible), 64:ff9b::/96 (NAT64 can reach private IPv4), 2001:db8::/32 documentation
        if (v6.Take(12).All(x => x == 0)) return false;
        if (v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b) return false;
        if (v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8) return false;
        return true;
    }
}

/// <summary>
/// Downloads for <c>POST /files/import</c>: DNS is resolved here and every address is checked before the connection
/// (<see cref="SocketsHttpHandler.ConnectCallback"/>), so a name cannot resolve to a checked address and connect to
/// another; redirects are followed by hand, each target checked again; the body is limited in size and time.
/// </summary>
public sealed class ImportClient : IDisposable
{
    private readonly ImportOptions _options;
    private readonly long _maxBytes;
    private readonly HttpClient _http;

    public ImportClient(IOptions<FileOptions> options)
    {
        _options = options.Value.Import;
        _maxBytes = options.Value.MaxFileBytes;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>A download: its declared media type, its file name from the URL, and the body (at most the file limit).</summary>
    public sealed record Download(HttpResponseMessage Response, Stream Body, string? MediaType, string FileName) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Body.DisposeAsync();
            Response.Dispose();
        }
    }

    /// <summary>Starts the download of <paramref name="url"/>; 400 <c>INVALID_PAYLOAD</c> for a refused address, a failed request or a non-2xx answer.</summary>
    public async Task<Download> GetAsync(string url, CancellationToken ct)
    {
        var uri = Absolute(url);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        var (response, final) = await SendAsync(HttpMethod.Get, uri, null, timeout, ct);
        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            response.Dispose();
            throw DirectusException.InvalidPayload($"The URL answered {status}", "url");
        }
        if (response.Content.Headers.ContentLength > _maxBytes)
        {
            response.Dispose();
            throw FileErrors.TooLarge(_maxBytes);
        }
        var body = await Guard(() => response.Content.ReadAsStreamAsync(timeout.Token), timeout, ct);
        var name = Uri.UnescapeDataString(final.AbsolutePath.Split('/').LastOrDefault() ?? "");
        // the caller's token stops the copy; the timeout keeps running through the body too
        return new Download(response, new TimedStream(body, _options.Timeout), response.Content.Headers.ContentType?.MediaType, name);
    }

    /// <summary>An answer read whole: status, reason, headers, media type and body text (at most <paramref name="maxBytes"/>).</summary>
    public sealed record Answer(int Status, string? Reason, IReadOnlyList<KeyValuePair<string, string>> Headers, string? MediaType, string Body);

    /// <summary>
    /// Any request (a flow's <c>request</c> operation) under the same rules as an import: public addresses only, the
    /// import's timeout; a GET's redirects are followed by hand as an import's are, any other method's answered as they are.
    /// </summary>
    public async Task<Answer> RequestAsync(HttpMethod method, string url, Action<HttpRequestMessage> prepare, int maxBytes, CancellationToken ct)
    {
        var uri = Absolute(url);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        var (response, _) = await SendAsync(method, uri, prepare, timeout, ct);
        using (response)
        {
            if (response.Content.Headers.ContentLength > maxBytes) throw FileErrors.TooLarge(maxBytes);
            var body = await Guard(async () =>
            {
                await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                using var copy = new MemoryStream();
                var buffer = new byte[16 * 1024];
                for (int read; (read = await stream.ReadAsync(buffer, timeout.Token)) > 0;)
                {
                    if (copy.Length + read > maxBytes) throw FileErrors.TooLarge(maxBytes);
                    copy.Write(buffer, 0, read);
                }
                return System.Text.Encoding.UTF8.GetString(copy.GetBuffer(), 0, (int)copy.Length);
            }, timeout, ct);
            var headers = response.Headers.Concat(response.Content.Headers).Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), string.Join(", ", h.Value))).ToList();
            return new Answer((int)response.StatusCode, response.ReasonPhrase, headers, response.Content.Headers.ContentType?.MediaType, body);
        }
    }

    private static Uri Absolute(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri : throw DirectusException.InvalidPayload("\"url\" must be an absolute http or https URL", "url");

    private async Task<(HttpResponseMessage Response, Uri Uri)> SendAsync(HttpMethod method, Uri uri, Action<HttpRequestMessage>? prepare,
        CancellationTokenSource timeout, CancellationToken ct) => await Guard(async () =>
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            prepare?.Invoke(request);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if ((method == HttpMethod.Get || method == HttpMethod.Head) && (int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop >= _options.MaxRedirects) throw Refused($"more than {_options.MaxRedirects} redirects");
                uri = new Uri(uri, location);
                if (uri.Scheme is not ("http" or "https")) throw Refused("a redirect left http(s)");
                continue;
            }
            return (response, uri);
        }
    }, timeout, ct);

    /// <summary>The timeout and the transport's failures as 400s naming <c>url</c>; our own refusal travels inside <see cref="HttpRequestException"/>.</summary>
    private async Task<T> Guard<T>(Func<Task<T>> send, CancellationTokenSource timeout, CancellationToken ct)
    {
        try
        {
            return await send();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw DirectusException.InvalidPayload($"The URL did not answer within {_options.Timeout.TotalSeconds:0} s", "url");
        }
        catch (HttpRequestException e)
        {
            // other causes are named by kind, not by message
            if (e.InnerException is DirectusException refused) throw refused;
            throw DirectusException.InvalidPayload($"The URL could not be fetched ({e.HttpRequestError})", "url");
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var trusted = _options.AllowPrivateAddresses
            || (!IPAddress.TryParse(host.Trim('[', ']'), out _) && _options.AllowedHosts.Contains(host, StringComparer.OrdinalIgnoreCase));
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = addresses.Where(a => trusted || ImportAddresses.IsPublic(a)).ToList();
        if (allowed.Count == 0)
            throw addresses.Length == 0 ? Refused($"\"{host}\" does not resolve") : Refused($"\"{host}\" is a loopback, private or link-local address");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed.ToArray(), context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static DirectusException Refused(string reason) =>
        DirectusException.InvalidPayload($"The URL can't be imported: {reason}", "url");

    public void Dispose() => _http.Dispose();

    /// <summary>A body that fails once <paramref name="limit"/> has passed since the download started.</summary>
    private sealed class TimedStream(Stream inner, TimeSpan limit) : Stream
    {
        private readonly CancellationTokenSource _deadline = new(limit);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _deadline.Token);
            try
            {
                return await inner.ReadAsync(buffer, linked.Token);
            }
            catch (OperationCanceledException) when (_deadline.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                throw DirectusException.InvalidPayload($"The URL did not send its body within {limit.TotalSeconds:0} s", "url");
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.Dispose(); _deadline.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
