using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiAssistant.ServiceDefaults.Grpc;

/// <summary>
/// Unary gRPC endpoints on plain ASP.NET Core routing, standing in for Grpc.AspNetCore (absent from the package source).
/// The service needs an HTTP/2 endpoint without TLS, e.g. <c>Kestrel__Endpoints__grpc__Url=http://127.0.0.1:5101</c>
/// and <c>Kestrel__Endpoints__grpc__Protocols=Http2</c>.
/// </summary>
public static class GrpcEndpointRouteBuilderExtensions
{
    // CancelAfter accepts at most ~49 days; a longer grpc-timeout is as good as none.
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(30);

    /// <summary>Maps <c>POST /{fullServiceName}/{method}</c>, e.g. <c>/aiassistant.tools.v1.Tools/ExecuteTool</c>.</summary>
    public static RouteHandlerBuilder MapGrpcUnary<TRequest, TResponse>(
        this IEndpointRouteBuilder app,
        string fullServiceName,
        string method,
        Func<TRequest, GrpcCallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest>, new()
        where TResponse : IMessage<TResponse>
    {
        var parser = new MessageParser<TRequest>(() => new TRequest());
        Func<HttpContext, Task> endpoint = http => HandleUnaryAsync(http, parser, handler);
        return app.MapPost($"/{fullServiceName}/{method}", endpoint).WithDisplayName($"gRPC {fullServiceName}/{method}");
    }

    /// <summary>
    /// Answers <c>Unimplemented</c> for any other <c>POST /{service}/{method}</c> with a gRPC content type, as gRPC
    /// servers do. Mapped routes win because literal segments outrank parameters; requests with another content type
    /// are not matched by it (a two-segment POST nobody else maps then gets 415 rather than 404).
    /// </summary>
    public static RouteHandlerBuilder MapGrpcFallback(this IEndpointRouteBuilder app)
    {
        Func<HttpContext, Task> endpoint = http =>
        {
            WriteStatus(http.Response, GrpcStatusCode.Unimplemented, $"Method {http.Request.Path} is not implemented.");
            return Task.CompletedTask;
        };
        return app.MapPost("/{service}/{method}", endpoint)
            .Accepts(typeof(byte[]), GrpcProtocol.ContentType, GrpcProtocol.ContentType + "+proto")
            .WithDisplayName("gRPC unimplemented method");
    }

    private static async Task HandleUnaryAsync<TRequest, TResponse>(
        HttpContext http,
        MessageParser<TRequest> parser,
        Func<TRequest, GrpcCallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        if (!GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        // Trailers carry the status, so HTTP/1.x (which Kestrel only serves with chunked trailers) is refused, as gRPC does.
        if (!HttpProtocol.IsHttp2(http.Request.Protocol) && !HttpProtocol.IsHttp3(http.Request.Protocol))
        {
            http.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }

        DateTimeOffset? deadline = null;
        CancellationTokenSource? deadlineSource = null;
        var token = http.RequestAborted;
        if (GrpcProtocol.TryParseTimeout(http.Request.Headers["grpc-timeout"], out var timeout) && timeout <= MaxTimeout)
        {
            deadline = DateTimeOffset.UtcNow + timeout;
            deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(token);
            deadlineSource.CancelAfter(timeout);
            token = deadlineSource.Token;
        }

        Task<TResponse>? handlerTask = null;
        try
        {
            var request = await ReadRequestAsync(http.Request.BodyReader, parser, token);
            handlerTask = handler(request, new GrpcCallContext(http, deadline, token));
            // WaitAsync answers at the deadline even when the handler ignores its token.
            var response = await handlerTask.WaitAsync(token);
            await WriteResponseAsync(http.Response, response);
        }
        catch (Exception ex)
        {
            var (status, detail) = ex switch
            {
                GrpcException grpc => (grpc.StatusCode, grpc.Detail),
                OperationCanceledException when token.IsCancellationRequested => http.RequestAborted.IsCancellationRequested
                    ? (GrpcStatusCode.Cancelled, "Cancelled by the client.")
                    : (GrpcStatusCode.DeadlineExceeded, "Deadline exceeded."),
                _ => LogInternalError(http, ex),
            };
            WriteStatus(http.Response, status, detail);
            if (handlerTask is { IsCompleted: false })
            {
                // Send the status now, but keep the HttpContext alive until the handler stops using it.
                await http.Response.CompleteAsync();
                await ((Task)handlerTask).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            deadlineSource?.Dispose();
        }
    }

    private static (GrpcStatusCode, string) LogInternalError(HttpContext http, Exception ex)
    {
        http.RequestServices.GetService<ILoggerFactory>()?.CreateLogger(typeof(GrpcEndpointRouteBuilderExtensions))
            // Type and stack only: an exception's message can carry a key or a connection string.
            .LogError("gRPC call {Path} failed with {ExceptionType}: {StackTrace}", http.Request.Path, ex.GetType().FullName, ex.StackTrace);
        // Never the exception's message: it goes to the caller and could hold a secret.
        return (GrpcStatusCode.Internal, "Internal error");
    }

    private static async ValueTask<TRequest> ReadRequestAsync<TRequest>(
        PipeReader reader, MessageParser<TRequest> parser, CancellationToken token)
        where TRequest : IMessage<TRequest>
    {
        // A unary request is one frame followed by the end of the stream.
        while (true)
        {
            var result = await reader.ReadAsync(token);
            var buffer = result.Buffer;
            if (buffer.Length > GrpcProtocol.FrameHeaderSize + GrpcProtocol.MaxMessageSize)
            {
                reader.AdvanceTo(buffer.End);
                throw new GrpcException(GrpcStatusCode.ResourceExhausted, "Request message is larger than the limit.");
            }

            if (result.IsCompleted)
            {
                try
                {
                    return ParseFrame(buffer, parser);
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static TRequest ParseFrame<TRequest>(ReadOnlySequence<byte> buffer, MessageParser<TRequest> parser)
        where TRequest : IMessage<TRequest>
    {
        Span<byte> header = stackalloc byte[GrpcProtocol.FrameHeaderSize];
        if (buffer.Length < header.Length)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "Incomplete request message.");
        }

        buffer.Slice(0, header.Length).CopyTo(header);
        if (header[0] != 0)
        {
            throw new GrpcException(GrpcStatusCode.Unimplemented, "Compressed messages are not supported.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        var body = buffer.Slice(header.Length);
        if (body.Length != length)
        {
            throw new GrpcException(GrpcStatusCode.Internal,
                body.Length < length ? "Incomplete request message." : "A unary request must carry exactly one message.");
        }

        try
        {
            return parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "Invalid request message.");
        }
    }

    private static async Task WriteResponseAsync<TResponse>(HttpResponse response, TResponse message)
        where TResponse : IMessage<TResponse>
    {
        var size = message.CalculateSize();
        response.ContentType = GrpcProtocol.ContentType;
        var writer = response.BodyWriter;
        var header = writer.GetSpan(GrpcProtocol.FrameHeaderSize);
        header[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(header[1..], (uint)size);
        writer.Advance(GrpcProtocol.FrameHeaderSize);
        message.WriteTo(writer);
        response.AppendTrailer("grpc-status", "0");
        await writer.FlushAsync();
    }

    private static void WriteStatus(HttpResponse response, GrpcStatusCode status, string detail)
    {
        var code = ((int)status).ToString(CultureInfo.InvariantCulture);
        var message = GrpcProtocol.EncodeMessage(detail);
        if (response.HasStarted)
        {
            response.AppendTrailer("grpc-status", code);
            response.AppendTrailer("grpc-message", message);
            return;
        }

        // Trailers-only: one HEADERS frame that ends the stream, which every gRPC client accepts.
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers["grpc-status"] = code;
        response.Headers["grpc-message"] = message;
    }
}
