using System.Text.Json;
using AiAssistant.Contracts.Tools;
using AiAssistant.Services.Chat.Chat;
using AiAssistant.Services.Chat.Providers;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.ToolLoop;

/// <summary>
/// One chat turn: up to <see cref="MaxSteps"/> rounds of model ↔ server tools, streamed as UI message chunks in the
/// reference's order (start, start-step, text-*, tool-input-*, tool-output-*, finish-step, …, data-usage, finish).
/// A call to a client tool ends the turn: the browser runs it and sends the result in the next request.
/// </summary>
/// <remarks>
/// Our own loop, not <see cref="FunctionInvokingChatClient"/>: that one runs every call of a round before it yields
/// any result (one update with all of them), so a call's <c>tool-output-available</c> could not leave when that call
/// is done, and it streams all rounds as one stream, with no mark where a step ends for <c>finish-step</c>/<c>start-step</c>.
/// </remarks>
public sealed class ChatTurn(ToolExecutor tools, ILogger<ChatTurn> logger)
{
    public const int MaxSteps = 10;

    private static readonly string InvalidArguments = JsonSerializer.Serialize(new
    {
        error = new { code = "INVALID_PAYLOAD", message = "The tool's arguments are not a valid JSON object.", recoverable = true },
    });

    public async Task RunAsync(IChatClient client, ChatOptions options, List<ChatMessage> messages, Caller caller,
        IReadOnlySet<string> clientTools, UiMessageStreamWriter stream, CancellationToken ct)
    {
        stream.Write("start");
        long input = 0, output = 0, total = 0;
        try
        {
            for (var step = 0; step < MaxSteps; step++)
            {
                stream.Write("start-step");
                string? textId = null;
                var text = new System.Text.StringBuilder();
                var calls = new List<FunctionCallContent>();
                await using var updates = client.GetStreamingResponseAsync(messages, options, ct).GetAsyncEnumerator(ct);
                while (true)
                {
                    var next = updates.MoveNextAsync();
                    // Send what is buffered before waiting on the provider; never while it has more ready.
                    if (!next.IsCompleted) await stream.FlushAsync(ct);
                    if (!await next) break;
                    var update = updates.Current;
                    foreach (var content in update.Contents)
                    {
                        switch (content)
                        {
                            case TextContent t when !string.IsNullOrEmpty(t.Text):
                                if (textId is null)
                                {
                                    textId = "txt_" + Guid.NewGuid().ToString("N");
                                    stream.Write("text-start", static (w, id) => w.WriteString("id", id), textId);
                                }
                                text.Append(t.Text);
                                stream.Write("text-delta", static (w, s) => { w.WriteString("id", s.textId); w.WriteString("delta", s.Text); }, (textId, t.Text));
                                break;
                            case FunctionCallContent call:
                                calls.Add(call);
                                break;
                            case UsageContent u:
                                input += u.Details.InputTokenCount ?? 0;
                                output += u.Details.OutputTokenCount ?? 0;
                                total += u.Details.TotalTokenCount ?? 0;
                                break;
                        }
                    }
                }
                if (textId is not null) stream.Write("text-end", static (w, id) => w.WriteString("id", id), textId);

                var assistant = new ChatMessage(ChatRole.Assistant, []);
                if (text.Length > 0) assistant.Contents.Add(new TextContent(text.ToString()));
                foreach (var call in calls)
                {
                    var raw = ToolArguments.ToJson(call);
                    stream.Write("tool-input-start", static (w, c) => { w.WriteString("toolCallId", c.CallId); w.WriteString("toolName", c.Name); }, call);
                    stream.Write("tool-input-delta", static (w, s) => { w.WriteString("toolCallId", s.call.CallId); w.WriteString("inputTextDelta", s.raw); }, (call, raw));
                    stream.Write("tool-input-available", static (w, s) =>
                    {
                        w.WriteString("toolCallId", s.call.CallId);
                        w.WriteString("toolName", s.call.Name);
                        w.WritePropertyName("input");
                        WriteJsonOrString(w, s.raw);
                    }, (call, raw));
                    assistant.Contents.Add(call);
                }
                messages.Add(assistant);

                if (calls.Count == 0 || calls.Any(c => clientTools.Contains(c.Name)))
                {
                    stream.Write("finish-step");
                    break;
                }

                var results = new ChatMessage(ChatRole.Tool, []);
                await stream.FlushAsync(ct);
                foreach (var call in calls)
                {
                    // Arguments that are not JSON never reach the tool; the model reads why and can try again.
                    var (outputJson, isError) = call.Exception is null
                        ? await tools.ExecuteAsync(call.Name, ToolArguments.ToJson(call), caller, ct)
                        : (InvalidArguments, true);
                    // The reference returns tool failures to the model as output ({error:{…}}), so it can recover.
                    stream.Write("tool-output-available", static (w, s) =>
                    {
                        w.WriteString("toolCallId", s.CallId);
                        w.WritePropertyName("output");
                        WriteJsonOrString(w, s.outputJson);
                    }, (call.CallId, outputJson));
                    await stream.FlushAsync(ct);
                    results.Contents.Add(new FunctionResultContent(call.CallId, outputJson));
                    if (isError) logger.LogInformation("Tool {Tool} returned an error to the model", call.Name);
                }
                messages.Add(results);
                stream.Write("finish-step");
            }
        }
        catch (ProviderException e)
        {
            stream.Write("error", static (w, m) => w.WriteString("errorText", m), e.Message);
            await stream.WriteDoneAsync(ct);
            return;
        }

        stream.Write("data-usage", static (w, u) =>
        {
            w.WriteStartObject("data");
            w.WriteNumber("inputTokens", u.input);
            w.WriteNumber("outputTokens", u.output);
            w.WriteNumber("totalTokens", u.total);
            w.WriteEndObject();
        }, (input, output, total));
        stream.Write("finish");
        await stream.WriteDoneAsync(ct);
    }

    private static void WriteJsonOrString(Utf8JsonWriter w, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            doc.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            w.WriteStringValue(json);
        }
    }
}
