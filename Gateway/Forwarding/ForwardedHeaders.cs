using System.Collections.Frozen;
using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;

namespace AiAssistant.Gateway.Forwarding;

/// <summary>Which headers cross the gateway, in each direction, and the X-Forwarded-* headers it adds.</summary>
internal static class ForwardedHeaders
{
    private const string ForwardedFor = "X-Forwarded-For";
    private const string ForwardedProto = "X-Forwarded-Proto";
    private const string ForwardedHost = "X-Forwarded-Host";

    // RFC 9110 §7.6.1: these describe one connection, not the message, so they never travel on.
    private static readonly FrozenSet<string> HopByHop = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade");

    // Host comes from the destination address; Expect was answered by Kestrel already; X-Forwarded-* are rewritten below.
    private static readonly FrozenSet<string> RequestOnly = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "Host", "Expect", ForwardedFor, ForwardedProto, ForwardedHost);

    public static void CopyRequestHeaders(HttpContext context, HttpRequestMessage request)
    {
        var incoming = context.Request.Headers;
        var connection = incoming.Connection;
        foreach (var header in incoming)
        {
            var name = header.Key;
            if (name.StartsWith(':') || HopByHop.Contains(name) || RequestOnly.Contains(name) || IsListedIn(connection, name))
                continue;
            var values = header.Value;
            if (values.Count == 1)
            {
                var value = values.ToString();
                if (!request.Headers.TryAddWithoutValidation(name, value))
                    request.Content?.Headers.TryAddWithoutValidation(name, value);
            }
            else if (name.Equals("Cookie", StringComparison.OrdinalIgnoreCase))
            {
                // HTTP/2 clients may split cookies over several fields; HTTP/1.1 allows exactly one.
                request.Headers.TryAddWithoutValidation(name, string.Join("; ", values.ToArray()));
            }
            else if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        AddForwardedHeaders(context, request.Headers, incoming[ForwardedFor]);
    }

    public static void CopyResponseHeaders(HttpResponseMessage upstream, IHeaderDictionary outgoing)
    {
        var connection = upstream.Headers.NonValidated.TryGetValues("Connection", out var listed)
            ? new StringValues(listed.ToString())
            : StringValues.Empty;
        Copy(upstream.Headers.NonValidated, outgoing, connection);
        Copy(upstream.Content.Headers.NonValidated, outgoing, connection);
    }

    public static void CopyTrailers(HttpResponseMessage upstream, HttpResponse response)
    {
        foreach (var trailer in upstream.TrailingHeaders.NonValidated)
            response.AppendTrailer(trailer.Key, ToStringValues(trailer.Value));
    }

    private static void Copy(HttpHeadersNonValidated from, IHeaderDictionary to, StringValues connection)
    {
        foreach (var header in from)
        {
            if (HopByHop.Contains(header.Key) || IsListedIn(connection, header.Key)) continue;
            to[header.Key] = ToStringValues(header.Value);
        }
    }

    private static void AddForwardedHeaders(HttpContext context, HttpRequestHeaders headers, StringValues priorForwardedFor)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is not null)
        {
            if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
            var address = remote.ToString();
            headers.TryAddWithoutValidation(ForwardedFor,
                StringValues.IsNullOrEmpty(priorForwardedFor) ? address : $"{priorForwardedFor}, {address}");
        }
        else if (!StringValues.IsNullOrEmpty(priorForwardedFor))
        {
            headers.TryAddWithoutValidation(ForwardedFor, priorForwardedFor.ToString());
        }
        headers.TryAddWithoutValidation(ForwardedProto, context.Request.Scheme);
        if (context.Request.Host.HasValue)
            headers.TryAddWithoutValidation(ForwardedHost, context.Request.Host.Value);
    }

    /// <summary>Whether a Connection header (<c>Connection: keep-alive, X-Foo</c>) names this header as hop-by-hop.</summary>
    private static bool IsListedIn(StringValues connection, string name)
    {
        for (var i = 0; i < connection.Count; i++)
        {
            var rest = connection[i].AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var token = (comma < 0 ? rest : rest[..comma]).Trim();
                if (token.Equals(name, StringComparison.OrdinalIgnoreCase)) return true;
                rest = comma < 0 ? default : rest[(comma + 1)..];
            }
        }
        return false;
    }

    private static StringValues ToStringValues(HeaderStringValues values)
    {
        if (values.Count == 1) return values.ToString();
        var array = new string[values.Count];
        var i = 0;
        foreach (var value in values) array[i++] = value;
        return array;
    }
}
