using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ProviderSimulator.OpenAi;

/// <summary>Where a streamed reply's events go: written into <see cref="Buffer"/>, sent on <see cref="SendAsync"/>.</summary>
internal abstract class EventSink
{
    public abstract IBufferWriter<byte> Buffer { get; }

    /// <summary>Bytes written but not sent yet.</summary>
    public abstract long Unsent { get; }

    /// <summary>Sends the response head if it is not out yet, then whatever was written.</summary>
    public abstract ValueTask SendAsync(CancellationToken aborted);

    /// <summary>Ends the connection without the stream's end, as a provider that drops it.</summary>
    public abstract Task HangUpAsync(HttpContext context);

    /// <summary>A sink for a reply; like a real provider, the headers go out at once and the first token after <paramref name="timeToFirstToken"/>.</summary>
    public static async Task<EventSink> OpenAsync(HttpContext context, bool hangsUp, TimeSpan timeToFirstToken)
    {
        var sink = For(context, hangsUp);
        if (timeToFirstToken > TimeSpan.Zero)
        {
            await sink.SendAsync(context.RequestAborted);
            await Task.Delay(timeToFirstToken, context.RequestAborted);
        }

        return sink;
    }

    private static EventSink For(HttpContext context, bool hangsUp)
    {
        // a hang-up needs to know its chunks reached the socket before the FIN; Kestrel's response cannot say so
        if (hangsUp && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            return new SocketSink(socket);
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        return new ResponseSink(response);
    }

    /// <summary>The normal path: Kestrel's response body, chunked by Kestrel.</summary>
    private sealed class ResponseSink(HttpResponse response) : EventSink
    {
        public override IBufferWriter<byte> Buffer => response.BodyWriter;

        public override long Unsent => response.BodyWriter.CanGetUnflushedBytes ? response.BodyWriter.UnflushedBytes : 0;

        public override async ValueTask SendAsync(CancellationToken aborted)
        {
            if (!response.HasStarted)
            {
                await response.StartAsync(aborted);
            }

            await response.BodyWriter.FlushAsync(aborted);
        }

        // only when the socket is not reachable: an abort resets the connection, which may cost the client unread chunks
        public override Task HangUpAsync(HttpContext context)
        {
            HangUps.Abort(context);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// A hang-up written straight to the connection's socket as HTTP/1.1 chunks, so that when the socket is half-closed
    /// every chunk is already in it: the client reads them all, then an end of stream without the final empty chunk.
    /// </summary>
    private sealed class SocketSink(Socket socket) : EventSink
    {
        private static readonly byte[] Head = Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n" +
            "Transfer-Encoding: chunked\r\n\r\n");

        // How long the hung-up connection waits for the client to close its side before it is torn down anyway.
        private static readonly TimeSpan ClientCloseTimeout = TimeSpan.FromSeconds(10);

        private readonly ArrayBufferWriter<byte> events = new(4096);
        private bool headSent;

        public override IBufferWriter<byte> Buffer => events;

        public override long Unsent => events.WrittenCount;

        public override async ValueTask SendAsync(CancellationToken aborted)
        {
            var frame = new ArrayBufferWriter<byte>(Head.Length + events.WrittenCount + 16);
            if (!headSent)
            {
                frame.Write(Head);
                headSent = true;
            }

            if (events.WrittenCount > 0)
            {
                frame.Write(Encoding.ASCII.GetBytes($"{events.WrittenCount:x}\r\n"));
                frame.Write(events.WrittenSpan);
                frame.Write("\r\n"u8);
                events.ResetWrittenCount();
            }

            for (var unsent = frame.WrittenMemory; !unsent.IsEmpty;)
            {
                unsent = unsent[await socket.SendAsync(unsent, SocketFlags.None, aborted)..];
            }
        }

        public override async Task HangUpAsync(HttpContext context)
        {
            socket.Shutdown(SocketShutdown.Send);
            try
            {
                // the client closes its side once it has read up to our FIN: then nothing it was sent can be lost
                await Task.Delay(ClientCloseTimeout, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }

            // Kestrel never wrote this response; aborting keeps it from writing one now
            HangUps.Abort(context);
        }
    }
}
