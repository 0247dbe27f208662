using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace AiAssistant.ServiceDefaults.Grpc;

/// <summary>
/// Unary gRPC calls over HTTP/2 without TLS (h2c, prior knowledge), standing in for Grpc.Net.Client.
/// The <see cref="HttpClient"/>'s BaseAddress is the peer, e.g. <c>http://127.0.0.1:5101</c>; build it on
/// <see cref="CreateHandler"/> and leave its Timeout infinite: deadlines come from <see cref="GrpcCallOptions"/>.
/// Every non-OK result throws <see cref="GrpcException"/>; cancelling <c>ct</c> throws <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class GrpcUnaryClient(HttpClient httpClient)
{
    /// <summary>Largest response message accepted; defaults to gRPC's 4 MB.</summary>
    public int MaxReceiveMessageSize { get; init; } = GrpcProtocol.MaxMessageSize;

    /// <summary>A pooled handler for h2c: several HTTP/2 connections under load, no proxy, no cookies, no redirects.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        // Notices a dead peer on an idle pooled connection before a call is made on it.
        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
    };

    public async Task<TResponse> CallAsync<TRequest, TResponse>(
        string fullServiceName,
        string method,
        TRequest request,
        MessageParser<TResponse> parser,
        GrpcCallOptions? options = null,
        CancellationToken ct = default)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        var timeout = RemainingTime(options);
        if (timeout <= TimeSpan.Zero)
        {
            throw new GrpcException(GrpcStatusCode.DeadlineExceeded, "Deadline exceeded before the call started.");
        }

        using var message = CreateRequest(fullServiceName, method, request, options, timeout);
        using var deadlineSource = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadlineSource?.CancelAfter(timeout!.Value);
        var token = deadlineSource?.Token ?? ct;
        try
        {
            // Disposing the response before its end resets the HTTP/2 stream, so the peer sees the cancellation.
            using var response = await httpClient.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token);
            return await ReadResponseAsync(response, parser, token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Our deadline fired (or HttpClient.Timeout, which is a deadline too).
            throw new GrpcException(GrpcStatusCode.DeadlineExceeded, "Deadline exceeded.");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new GrpcException(GrpcStatusCode.Unavailable, $"Error talking to {httpClient.BaseAddress}: {ex.Message}", ex);
        }
    }

    private static TimeSpan? RemainingTime(GrpcCallOptions? options)
    {
        if (options is null || (options.Timeout is null && options.Deadline is null))
        {
            return null;
        }

        var fromDeadline = options.Deadline - DateTimeOffset.UtcNow;
        var remaining = fromDeadline is null || (options.Timeout is { } t && t < fromDeadline) ? options.Timeout : fromDeadline;
        // CancelAfter accepts at most ~49 days; a later deadline is as good as none.
        return remaining > TimeSpan.FromDays(30) ? null : remaining;
    }

    private static HttpRequestMessage CreateRequest<TRequest>(
        string fullServiceName, string method, TRequest request, GrpcCallOptions? options, TimeSpan? timeout)
        where TRequest : IMessage<TRequest>
    {
        var size = request.CalculateSize();
        var frame = new byte[GrpcProtocol.FrameHeaderSize + size];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)size);
        request.WriteTo(frame.AsSpan(GrpcProtocol.FrameHeaderSize));

        var content = new ByteArrayContent(frame);
        content.Headers.TryAddWithoutValidation("content-type", GrpcProtocol.ContentType);
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri($"/{fullServiceName}/{method}", UriKind.Relative))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact, // h2c with prior knowledge: never HTTP/1.1
            Content = content,
        };
        // Adds to the request's own headers only, so the handler's traceparent injection is untouched.
        var headers = message.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        if (timeout is { } t)
        {
            headers.TryAddWithoutValidation("grpc-timeout", GrpcProtocol.EncodeTimeout(t));
        }

        if (options?.Headers is { } metadata)
        {
            foreach (var (name, value) in metadata)
            {
                headers.TryAddWithoutValidation(name, value);
            }
        }

        return message;
    }

    private async Task<TResponse> ReadResponseAsync<TResponse>(
        HttpResponseMessage response, MessageParser<TResponse> parser, CancellationToken token)
        where TResponse : IMessage<TResponse>
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new GrpcException(GrpcProtocol.FromHttpStatus((int)response.StatusCode),
                $"Bad gRPC response: HTTP status {(int)response.StatusCode}.");
        }

        // Trailers-only response: the status is in the headers and there is no body.
        ThrowIfNotOk(response.Headers, orMissing: false);
        if (!GrpcProtocol.IsGrpcContentType(response.Content.Headers.ContentType?.MediaType))
        {
            throw new GrpcException(GrpcStatusCode.Internal, "Bad gRPC response: content-type is not application/grpc.");
        }

        var stream = await response.Content.ReadAsStreamAsync(token);
        var header = new byte[GrpcProtocol.FrameHeaderSize];
        var headerRead = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, token);
        TResponse? reply = default;
        if (headerRead > 0)
        {
            reply = await ReadMessageAsync(stream, header, headerRead, parser, token);
        }

        // Trailers arrive after the body; reading to its end makes them available.
        if (await stream.ReadAsync(header, token) != 0)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "A unary response must carry exactly one message.");
        }

        ThrowIfNotOk(response.TrailingHeaders, orMissing: true);
        return reply ?? throw new GrpcException(GrpcStatusCode.Internal, "The response carried no message.");
    }

    private async Task<TResponse> ReadMessageAsync<TResponse>(
        Stream stream, byte[] header, int headerRead, MessageParser<TResponse> parser, CancellationToken token)
        where TResponse : IMessage<TResponse>
    {
        if (headerRead < header.Length)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "Incomplete response message.");
        }

        if (header[0] != 0)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "Compressed responses are not supported.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > MaxReceiveMessageSize)
        {
            throw new GrpcException(GrpcStatusCode.ResourceExhausted, "Response message is larger than the limit.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            await stream.ReadExactlyAsync(buffer.AsMemory(0, (int)length), token);
            return parser.ParseFrom(buffer.AsSpan(0, (int)length));
        }
        catch (EndOfStreamException)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "Incomplete response message.");
        }
        catch (InvalidProtocolBufferException)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "Invalid response message.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ThrowIfNotOk(HttpHeaders headers, bool orMissing)
    {
        if (!headers.NonValidated.TryGetValues("grpc-status", out var statusValues))
        {
            if (orMissing)
            {
                throw new GrpcException(GrpcStatusCode.Internal, "The response carried no grpc-status.");
            }

            return;
        }

        var statusText = statusValues.ToString();
        if (!int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new GrpcException(GrpcStatusCode.Unknown, $"Unparsable grpc-status '{statusText}'.");
        }

        if (status != (int)GrpcStatusCode.OK)
        {
            var detail = headers.NonValidated.TryGetValues("grpc-message", out var messageValues) ? messageValues.ToString() : "";
            throw new GrpcException((GrpcStatusCode)status, GrpcProtocol.DecodeMessage(detail));
        }
    }
}
