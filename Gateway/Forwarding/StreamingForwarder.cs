using System.Diagnostics;
using System.Net;
using System.Runtime.ExceptionServices;
using AiAssistant.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace AiAssistant.Gateway.Forwarding;

/// <summary>
/// Sends a request on to one replica of a service and streams the answer back: headers (minus hop-by-hop ones),
/// the body in both directions as it comes, and trailers. The client leaving cancels the upstream call.
/// </summary>
public sealed partial class StreamingForwarder : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    private readonly HttpMessageInvoker _upstream;
    private readonly ILogger<StreamingForwarder> _logger;

    public StreamingForwarder(ILogger<StreamingForwarder> logger)
    {
        _logger = logger;
        // One pooled client for every upstream; an invoker never buffers and returns once the response headers are read.
        _upstream = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = ConnectTimeout,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReplacingTracePropagator(DistributedContextPropagator.Current),
        }, disposeHandler: true);
    }

    public async Task ForwardAsync(HttpContext context, ServiceReplicas service)
    {
        var address = service.NextAddress();
        if (address is null)
        {
            await WriteUnavailableAsync(context, service.Name, "It has no address configured");
            return;
        }

        var aborted = context.RequestAborted;
        using var request = CreateRequest(context, address);
        HttpResponseMessage upstream;
        try
        {
            upstream = await _upstream.SendAsync(request, aborted);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            await ReportSendFailureAsync(context, service.Name, address, e);
            return;
        }

        using (upstream)
        {
            var response = context.Response;
            response.StatusCode = (int)upstream.StatusCode;
            ForwardedHeaders.CopyResponseHeaders(upstream, response.Headers);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            try
            {
                await using var body = await upstream.Content.ReadAsStreamAsync(aborted);
                await StreamingCopy.CopyAsync(body, response.Body, aborted);
                if (response.SupportsTrailers()) ForwardedHeaders.CopyTrailers(upstream, response);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
            {
                if (!response.HasStarted && !aborted.IsCancellationRequested)
                {
                    response.Clear();
                    LogUnreachable(_logger, service.Name, address, context.Request.Method, context.Request.Path.Value, e);
                    await WriteUnavailableAsync(context, service.Name, "Its response broke off");
                    return;
                }
                // The status line is gone already: breaking the connection is the only way left to say the body is incomplete.
                LogBrokenOff(_logger, service.Name, context.Request.Method, context.Request.Path.Value, e);
                context.Abort();
            }
        }
    }

    private static HttpRequestMessage CreateRequest(HttpContext context, string address)
    {
        var incoming = context.Request;
        var request = new HttpRequestMessage(
            HttpMethod.Parse(incoming.Method),
            new Uri(string.Concat(address, incoming.Path.ToUriComponent(), incoming.QueryString.Value)))
        {
            // HTTP/2 where TLS lets the two sides agree on it, HTTP/1.1 otherwise.
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (HasBody(context)) request.Content = new StreamingRequestContent(incoming.Body);
        ForwardedHeaders.CopyRequestHeaders(context, request);
        return request;
    }

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
        ?? (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0);

    private Task ReportSendFailureAsync(HttpContext context, string service, string address, Exception e)
    {
        if (context.RequestAborted.IsCancellationRequested) return Task.CompletedTask; // the client left; nobody is waiting
        // The client's body was at fault (too large, malformed chunking), not the upstream: ServiceDefaults' error
        // middleware answers it like any other unreadable body.
        if (FindBadRequest(e) is { } bad) ExceptionDispatchInfo.Throw(bad);
        LogUnreachable(_logger, service, address, context.Request.Method, context.Request.Path.Value, e);
        return WriteUnavailableAsync(context, service, "Could not reach it");
    }

    private static Task WriteUnavailableAsync(HttpContext context, string service, string reason)
    {
        var unavailable = DirectusException.ServiceUnavailable(service, reason);
        return DirectusError.WriteAsync(context, StatusCodes.Status502BadGateway, unavailable.Code, unavailable.Message, unavailable.Extensions);
    }

    private static BadHttpRequestException? FindBadRequest(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is BadHttpRequestException bad) return bad;
        return null;
    }

    public void Dispose() => _upstream.Dispose();

    // The path only: a query string may carry an access_token.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reach service {Service} at {Address} for {Method} {Path}")]
    private static partial void LogUnreachable(ILogger logger, string service, string address, string method, string? path, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Response from service {Service} for {Method} {Path} broke off; connection aborted")]
    private static partial void LogBrokenOff(ILogger logger, string service, string method, string? path, Exception exception);
}
