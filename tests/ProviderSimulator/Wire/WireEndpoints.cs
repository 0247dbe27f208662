using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ProviderSimulator.OpenAi;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ProviderSimulator.Wire;

/// <summary>
/// Anthropic's <c>POST /v1/messages</c>, Gemini's <c>POST /v1beta/models/{model}:generateContent</c> and
/// <c>:streamGenerateContent?alt=sse</c>, and OpenAI's <c>POST /v1/responses</c>, answered from the script: each checks
/// its own auth header, reads model, streaming and whether the last input is a tool result, and answers in its format.
/// </summary>
internal sealed class WireEndpoints(ProviderScript script)
{
    /// <summary>What a request asks for, in any of the formats.</summary>
    private readonly record struct Ask(string Model, bool Stream, bool ToolResultLast, int PromptTokens);

    public Task AnthropicAsync(HttpContext context, byte[] body) => HandleAsync(context, body, new AnthropicFormat(),
        context.Request.Headers["x-api-key"].ToString(), "invalid x-api-key", root =>
        {
            var last = root["messages"]?.AsArray().LastOrDefault();
            bool toolResult = last?["content"] is JsonArray parts && parts.Any(p => p?["type"]?.GetValue<string>() == "tool_result");
            return new Ask(root["model"]?.GetValue<string>() ?? "unknown", root["stream"]?.GetValue<bool>() == true, toolResult, Estimate(body));
        });

    public Task ResponsesAsync(HttpContext context, byte[] body) => HandleAsync(context, body, new ResponsesFormat(),
        context.Request.Headers.Authorization.ToString() is var auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : "",
        "Incorrect API key provided.", root =>
        {
            var last = root["input"] is JsonArray items ? items.LastOrDefault() : null;
            bool toolResult = last?["type"]?.GetValue<string>() == "function_call_output";
            return new Ask(root["model"]?.GetValue<string>() ?? "unknown", root["stream"]?.GetValue<bool>() == true, toolResult, Estimate(body));
        });

    /// <param name="modelAction"><c>{model}:streamGenerateContent</c> or <c>{model}:generateContent</c>.</param>
    public Task GeminiAsync(HttpContext context, string modelAction, byte[] body)
    {
        var request = context.Request;
        string key = request.Headers["x-goog-api-key"].ToString() is { Length: > 0 } header ? header : request.Query["key"].ToString();
        int colon = modelAction.LastIndexOf(':');
        string model = colon > 0 ? modelAction[..colon] : modelAction, action = colon > 0 ? modelAction[(colon + 1)..] : "";
        if (action is not ("streamGenerateContent" or "generateContent"))
        {
            return JsonAsync(context.Response, 404, json => new GeminiFormat().WriteError(json, new SimulatedError(404, $"Unknown method {action}.", "", null)));
        }

        return HandleAsync(context, body, new GeminiFormat(), key, "API key not valid. Please pass a valid API key.", root =>
        {
            var last = root["contents"]?.AsArray().LastOrDefault();
            bool toolResult = last?["parts"] is JsonArray parts && parts.Any(p => p?["functionResponse"] is not null);
            return new Ask(model, action == "streamGenerateContent", toolResult, Estimate(body));
        });
    }

    private async Task HandleAsync(HttpContext context, byte[] body, StreamFormat format, string presentedKey, string badKeyMessage, Func<JsonNode, Ask> read)
    {
        if (script.RequiredApiKey is { } apiKey && presentedKey != apiKey)
        {
            await JsonAsync(context.Response, 401, json => format.WriteError(json, new SimulatedError(401, badKeyMessage, "authentication_error", "invalid_api_key")));
            return;
        }

        Ask ask;
        try
        {
            ask = read(JsonNode.Parse(body) ?? throw new JsonException());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            await JsonAsync(context.Response, 400, json => format.WriteError(json, new SimulatedError(400, "The request body is not valid JSON.", "invalid_request_error", null)));
            return;
        }

        var reply = script.Next(ask.ToolResultLast ? "tool" : "user");
        var pacing = reply.Pacing ?? script.DefaultPacing;
        var usage = reply.Usage ?? new SimulatedUsage(ask.PromptTokens, TextPieces.CountCompletionTokens(reply));
        var aborted = context.RequestAborted;
        try
        {
            switch (reply.Kind)
            {
                case SimulatedReplyKind.Error or SimulatedReplyKind.StreamError when reply.Kind == SimulatedReplyKind.Error || !ask.Stream:
                    await Pause(pacing.TimeToFirstToken, aborted);
                    if (reply.RetryAfter is { } after)
                    {
                        context.Response.Headers["retry-after"] = ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    }

                    await JsonAsync(context.Response, reply.Failure!.Status, json => format.WriteError(json, reply.Failure));
                    break;
                case SimulatedReplyKind.HangUp when reply.HangUpAfterChunks <= 0 || !ask.Stream:
                    await Pause(pacing.TimeToFirstToken, aborted);
                    HangUps.Abort(context);
                    break;
                default:
                    if (ask.Stream)
                    {
                        await ReplyStreamer.StreamAsync(context, format, ask.Model, reply, pacing, usage);
                    }
                    else
                    {
                        await Pause(pacing.TimeToFirstToken + pacing.BetweenTokens * Math.Max(0, usage.CompletionTokens - 1), aborted);
                        format.Begin(new System.Buffers.ArrayBufferWriter<byte>(), ask.Model);
                        var ids = reply.Calls.Select(_ => format.NewCallId()).ToList();
                        await JsonAsync(context.Response, 200, json => format.WriteWhole(json, reply, ids, usage));
                    }

                    break;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // the client went away mid-reply
        }
    }

    private static Task JsonAsync(HttpResponse response, int status, Action<Utf8JsonWriter> write) => JsonResponse.WriteAsync(response, status, write);

    /// <summary>Roughly four bytes per token, as the Chat Completions endpoint estimates.</summary>
    private static int Estimate(byte[] body) => Math.Max(1, body.Length / 4);

    private static Task Pause(TimeSpan delay, CancellationToken aborted) => delay > TimeSpan.Zero ? Task.Delay(delay, aborted) : Task.CompletedTask;
}
