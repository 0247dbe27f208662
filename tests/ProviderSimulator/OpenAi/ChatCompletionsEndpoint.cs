using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ProviderSimulator.OpenAi;

/// <summary>OpenAI's <c>POST /v1/chat/completions</c> and <c>GET /v1/models</c>, answered from the script.</summary>
internal sealed class ChatCompletionsEndpoint(ProviderScript script)
{
    // Unpaced replies are flushed once at the end; this bounds what a long scripted reply buffers before that.
    private const int MaxUnflushedBytes = 32 * 1024;

    public async Task CompleteAsync(HttpContext context, byte[] body)
    {
        if (script.RequiredApiKey is { } apiKey && context.Request.Headers.Authorization != "Bearer " + apiKey)
        {
            await JsonResponse.WriteErrorAsync(context.Response, new SimulatedError(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
            return;
        }

        ChatCompletionRequest request;
        try
        {
            request = ChatCompletionRequest.Parse(body);
        }
        catch (JsonException)
        {
            await JsonResponse.WriteErrorAsync(context.Response, new SimulatedError(
                400, "We could not parse the JSON body of your request.", "invalid_request_error", null));
            return;
        }

        var reply = script.Next(request.LastRole);
        var pacing = reply.Pacing ?? script.DefaultPacing;
        var aborted = context.RequestAborted;
        try
        {
            switch (reply.Kind)
            {
                case SimulatedReplyKind.Error:
                    await PauseAsync(pacing.TimeToFirstToken, aborted);
                    await JsonResponse.WriteErrorAsync(context.Response, reply.Failure
                        ?? throw new InvalidOperationException("An error reply needs a Failure."));
                    break;
                case SimulatedReplyKind.HangUp when reply.HangUpAfterChunks <= 0 || !request.Stream:
                    await PauseAsync(pacing.TimeToFirstToken, aborted);
                    HangUps.Abort(context);
                    break;
                default:
                    if (request.Stream)
                    {
                        await StreamAsync(context, request, reply, pacing);
                    }
                    else
                    {
                        await RespondAsync(context.Response, request, reply, pacing, aborted);
                    }

                    break;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // the client went away mid-reply: nothing left to answer
        }
    }

    public Task ListModelsAsync(HttpContext context) => JsonResponse.WriteAsync(context.Response, StatusCodes.Status200OK, json =>
    {
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var model in script.Models)
        {
            json.WriteStartObject();
            json.WriteString("id", model);
            json.WriteString("object", "model");
            json.WriteNumber("created", 1_700_000_000);
            json.WriteString("owned_by", "provider-simulator");
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    private async Task StreamAsync(HttpContext context, ChatCompletionRequest request, SimulatedReply reply, Pacing pacing)
    {
        var aborted = context.RequestAborted;
        bool hangsUp = reply.Kind == SimulatedReplyKind.HangUp;
        var sink = await EventSink.OpenAsync(context, hangsUp, pacing.TimeToFirstToken);

        var chunks = new ChatCompletionChunkWriter(sink.Buffer, CompletionIdentity.New(request.Model), request.IncludeUsage);
        var between = pacing.BetweenTokens;
        bool hasText = reply.Content.Length > 0 || reply.Calls.Count == 0;
        int sent = 0;

        if (hasText)
        {
            chunks.Role();
            int position = 0, limit = hangsUp ? reply.HangUpAfterChunks : int.MaxValue;
            while (sent < limit && TextPieces.NextWord(reply.Content, ref position, out var piece))
            {
                await BeforeTokenAsync(sink, sent++, between, aborted);
                chunks.Content(reply.Content.AsSpan(piece));
            }
        }

        if (hangsUp)
        {
            await sink.SendAsync(aborted);
            await sink.HangUpAsync(context);
            return;
        }

        for (int index = 0; index < reply.Calls.Count; index++)
        {
            var call = reply.Calls[index];
            await BeforeTokenAsync(sink, sent++, between, aborted);
            chunks.ToolCallStart(index, CompletionIdentity.NewToolCallId(), call.Name, withRole: !hasText && index == 0);
            int position = 0;
            while (TextPieces.NextArgumentPiece(call.Arguments, ref position, out var piece))
            {
                await BeforeTokenAsync(sink, sent++, between, aborted);
                chunks.ToolCallArguments(index, call.Arguments.AsSpan(piece));
            }
        }

        chunks.Finish(FinishReason(reply));
        if (request.IncludeUsage)
        {
            var usage = Usage(request, reply);
            chunks.Usage(usage);
        }

        chunks.Done();
        await sink.SendAsync(aborted);
    }

    private static async Task RespondAsync(
        HttpResponse response, ChatCompletionRequest request, SimulatedReply reply, Pacing pacing, CancellationToken aborted)
    {
        var usage = Usage(request, reply);
        // the whole reply is "generated" before it is sent, as a provider does without streaming
        await PauseAsync(pacing.TimeToFirstToken + pacing.BetweenTokens * Math.Max(0, usage.CompletionTokens - 1), aborted);

        var identity = CompletionIdentity.New(request.Model);
        await JsonResponse.WriteAsync(response, StatusCodes.Status200OK, json => OpenAiJson.WriteCompletion(
            json, identity, reply, FinishReason(reply), usage));
    }

    /// <summary>Before every token but the first: paced replies send what they have and wait; unpaced ones only bound their buffer.</summary>
    private static async ValueTask BeforeTokenAsync(EventSink sink, int tokensSent, TimeSpan between, CancellationToken aborted)
    {
        if (tokensSent == 0)
        {
            return;
        }

        if (between > TimeSpan.Zero)
        {
            await sink.SendAsync(aborted);
            await Task.Delay(between, aborted);
        }
        else if (sink.Unsent > MaxUnflushedBytes)
        {
            await sink.SendAsync(aborted);
        }
    }

    private static SimulatedUsage Usage(ChatCompletionRequest request, SimulatedReply reply) =>
        reply.Usage ?? new SimulatedUsage(request.PromptTokens, TextPieces.CountCompletionTokens(reply));

    private static string FinishReason(SimulatedReply reply) =>
        reply.FinishReason ?? (reply.Calls.Count > 0 ? "tool_calls" : "stop");

    private static Task PauseAsync(TimeSpan delay, CancellationToken aborted) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, aborted) : Task.CompletedTask;
}
