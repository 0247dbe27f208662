using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace AiAssistant.Services.Chat.Chat;

/// <summary>
/// Writes the AI SDK UI message stream v1 (<c>data: {json}\n\n</c> frames, then <c>data: [DONE]</c>) straight into
/// the response pipe. Frames are buffered until <see cref="FlushAsync"/>: the turn flushes whenever it is about to
/// wait for the provider, so a token reaches the browser as soon as the provider sends it, and a burst of tokens
/// already received leaves in one write.
/// </summary>
public sealed class UiMessageStreamWriter(PipeWriter output)
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Suffix = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _json = new(Stream.Null);

    public static void SetHeaders(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["x-vercel-ai-ui-message-stream"] = "v1";
        response.Headers["x-accel-buffering"] = "no";
    }

    public void Write(string type) => Write(type, static (_, _) => { }, 0);

    /// <summary>One frame: <c>{"type":type, …fields written by <paramref name="fields"/>}</c>.</summary>
    public void Write<TState>(string type, Action<Utf8JsonWriter, TState> fields, TState state)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        _json.WriteStartObject();
        _json.WriteString("type", type);
        fields(_json, state);
        _json.WriteEndObject();
        _json.Flush();
        output.Write(Prefix);
        output.Write(_buffer.WrittenSpan);
        output.Write(Suffix);
    }

    public async ValueTask FlushAsync(CancellationToken ct) => await output.FlushAsync(ct);

    public async ValueTask WriteDoneAsync(CancellationToken ct)
    {
        output.Write(Done);
        await output.FlushAsync(ct);
    }
}
