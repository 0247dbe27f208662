using System.Buffers;
using System.Text.Json;
using AiAssistant.ProviderSimulator.OpenAi;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ProviderSimulator.Wire;

/// <summary>
/// One reply in one provider's wire format (Anthropic Messages, Gemini generateContent, OpenAI Responses): its
/// server-sent events piece by piece, its whole JSON body, its error body. <see cref="ReplyStreamer"/> decides when
/// each piece goes out (pacing) and where a hang-up cuts the stream.
/// </summary>
internal abstract class StreamFormat
{
    private IBufferWriter<byte> output = null!;
    private Utf8JsonWriter json = null!;

    protected string Model { get; private set; } = "";

    public void Begin(IBufferWriter<byte> buffer, string model)
    {
        output = buffer;
        json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions);
        Model = model;
    }

    /// <summary>One event: <c>event: name</c> (when the format names its events), then <c>data: {json}</c>.</summary>
    protected void Event(string? name, Action<Utf8JsonWriter> data)
    {
        if (name is not null)
        {
            output.Write("event: "u8);
            output.Write(System.Text.Encoding.UTF8.GetBytes(name));
            output.Write("\n"u8);
        }

        output.Write("data: "u8);
        json.Reset(output);
        data(json);
        json.Flush();
        output.Write("\n\n"u8);
    }

    public abstract void Start(SimulatedUsage usage);
    public abstract void ReasoningStart();
    public abstract void ReasoningDelta(string piece);
    public abstract void ReasoningEnd(string reasoning);
    public abstract void TextStart();
    public abstract void TextDelta(string piece);
    public abstract void TextEnd(string text);
    public abstract void ToolCallStart(string id, SimulatedToolCall call);
    public abstract void ToolCallArguments(string piece);
    public abstract void ToolCallEnd(string id, SimulatedToolCall call);
    public abstract void Finish(SimulatedReply reply, SimulatedUsage usage);

    /// <summary>The format's error event in the middle of an answer.</summary>
    public abstract void StreamError(SimulatedError error);

    /// <summary>The whole reply as one JSON body (a request without streaming).</summary>
    public abstract void WriteWhole(Utf8JsonWriter json, SimulatedReply reply, IReadOnlyList<string> callIds, SimulatedUsage usage);

    public abstract void WriteError(Utf8JsonWriter json, SimulatedError error);

    /// <summary>Where the simulator keeps what a tool call's id is in this format.</summary>
    public abstract string NewCallId();

    protected static void WriteRawJson(Utf8JsonWriter json, string name, string value)
    {
        json.WritePropertyName(name);
        try
        {
            using var document = JsonDocument.Parse(value);
            document.RootElement.WriteTo(json);
        }
        catch (JsonException)
        {
            json.WriteStartObject();
            json.WriteEndObject();
        }
    }

    protected static string NewToken() => Guid.NewGuid().ToString("N")[..24];
}

/// <summary>Streams a reply through a <see cref="StreamFormat"/>: reasoning, text, then tool calls, paced, maybe cut off.</summary>
internal static class ReplyStreamer
{
    private const int MaxUnflushedBytes = 32 * 1024;

    public static async Task StreamAsync(HttpContext context, StreamFormat format, string model, SimulatedReply reply, Pacing pacing, SimulatedUsage usage)
    {
        var aborted = context.RequestAborted;
        bool hangsUp = reply.Kind == SimulatedReplyKind.HangUp, fails = reply.Kind == SimulatedReplyKind.StreamError;
        var sink = await EventSink.OpenAsync(context, hangsUp, pacing.TimeToFirstToken);

        format.Begin(sink.Buffer, model);
        format.Start(usage);
        int sent = 0, limit = hangsUp || fails ? reply.HangUpAfterChunks : int.MaxValue;

        async ValueTask<bool> TokenAsync()
        {
            if (sent >= limit)
            {
                return false;
            }

            if (sent++ > 0)
            {
                if (pacing.BetweenTokens > TimeSpan.Zero)
                {
                    await sink.SendAsync(aborted);
                    await Task.Delay(pacing.BetweenTokens, aborted);
                }
                else if (sink.Unsent > MaxUnflushedBytes)
                {
                    await sink.SendAsync(aborted);
                }
            }

            return true;
        }

        if (reply.Reasoning.Length > 0)
        {
            format.ReasoningStart();
            int position = 0;
            while (TextPieces.NextWord(reply.Reasoning, ref position, out var piece))
            {
                if (!await TokenAsync()) goto Cut;
                format.ReasoningDelta(reply.Reasoning[piece]);
            }

            format.ReasoningEnd(reply.Reasoning);
        }

        if (reply.Content.Length > 0 || reply.Calls.Count == 0)
        {
            format.TextStart();
            int position = 0;
            while (TextPieces.NextWord(reply.Content, ref position, out var piece))
            {
                if (!await TokenAsync()) goto Cut;
                format.TextDelta(reply.Content[piece]);
            }

            if (hangsUp || fails) goto Cut;
            format.TextEnd(reply.Content);
        }

        foreach (var call in reply.Calls)
        {
            var id = format.NewCallId();
            if (!await TokenAsync()) goto Cut;
            format.ToolCallStart(id, call);
            int position = 0;
            while (TextPieces.NextArgumentPiece(call.Arguments, ref position, out var piece))
            {
                if (!await TokenAsync()) goto Cut;
                format.ToolCallArguments(call.Arguments[piece]);
            }

            format.ToolCallEnd(id, call);
        }

        if (hangsUp || fails) goto Cut;
        format.Finish(reply, usage);
        await sink.SendAsync(aborted);
        return;

    Cut:
        if (fails)
        {
            format.StreamError(reply.Failure!);
            await sink.SendAsync(aborted);
            return;
        }

        await sink.SendAsync(aborted);
        await sink.HangUpAsync(context);
    }
}
