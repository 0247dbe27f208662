using System.Text.Json;
using AiAssistant.Contracts.Tools;
using AiAssistant.Services.Chat.Chat;
using AiAssistant.Services.Chat.Providers;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.ToolLoop;

/// <summary>
/// One chat turn: up to <see cref="MaxSteps"/> rounds of model ↔ server tools, streamed as UI message chunks in the
/// reference's order (start, start-step, text-*, tool-input-*, tool-output-*, finish-step, …, finish, data-usage).
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
        ok = false,
        error = new { code = "INVALID_PAYLOAD", message = "The tool's arguments are not a valid JSON object.", recoverable = true },
    });

    /// <summary>Streams the turn, adding the provider's token figures to <paramref name="usage"/> as they come.</summary>
    /// <returns>Whether the turn was answered (<c>ok</c>) or ended in an <c>error</c> chunk.</returns>
    public async Task<string> RunAsync(IChatClient client, ChatOptions options, Conversation conversation, Caller caller, ToolScope scope,
        IReadOnlySet<string> clientTools, UiMessageStreamWriter stream, TurnUsage usage, CancellationToken ct)
    {
        var messages = conversation.Messages;
        stream.Write("start");
        var finishReason = "stop";
        try
        {
            if (conversation.Approvals.Count > 0) await AnswerApprovalsAsync(conversation, caller, scope, stream, ct);
            for (var step = 0; step < MaxSteps; step++)
            {
                stream.Write("start-step");
                string? textId = null, reasoningId = null, protectedData = null;
                var calls = new List<FunctionCallContent>();
                var received = new List<ChatResponseUpdate>();
                ChatFinishReason? stepReason = null;
                await using var updates = client.GetStreamingResponseAsync(messages, options, ct).GetAsyncEnumerator(ct);
                while (true)
                {
                    var next = updates.MoveNextAsync();
                    // Send what is buffered before waiting on the provider; never while it has more ready.
                    if (!next.IsCompleted) await FlushWhileWaitingAsync(stream, next, ct);
                    if (!await next) break;
                    var update = updates.Current;
                    received.Add(update);
                    stepReason = update.FinishReason ?? stepReason;
                    foreach (var content in update.Contents)
                    {
                        switch (content)
                        {
                            case TextReasoningContent r when !string.IsNullOrEmpty(r.Text) || !string.IsNullOrEmpty(r.ProtectedData):
                                // a block already signed ends before the next one starts, so each keeps its own signature
                                if (protectedData is not null) EndReasoning(stream, ref reasoningId, ref protectedData);
                                if (reasoningId is null)
                                {
                                    reasoningId = "rsn_" + Guid.NewGuid().ToString("N");
                                    stream.Write("reasoning-start", static (w, id) => w.WriteString("id", id), reasoningId);
                                }
                                if (!string.IsNullOrEmpty(r.Text))
                                    stream.Write("reasoning-delta", static (w, s) => { w.WriteString("id", s.reasoningId); w.WriteString("delta", s.Text); }, (reasoningId, r.Text));
                                if (!string.IsNullOrEmpty(r.ProtectedData)) protectedData = r.ProtectedData;
                                break;
                            case TextContent t when !string.IsNullOrEmpty(t.Text):
                                EndReasoning(stream, ref reasoningId, ref protectedData);
                                if (textId is null)
                                {
                                    textId = "txt_" + Guid.NewGuid().ToString("N");
                                    stream.Write("text-start", static (w, id) => w.WriteString("id", id), textId);
                                }
                                stream.Write("text-delta", static (w, s) => { w.WriteString("id", s.textId); w.WriteString("delta", s.Text); }, (textId, t.Text));
                                break;
                            case FunctionCallContent call:
                                calls.Add(call);
                                break;
                            case UsageContent u:
                                usage.Add(u.Details);
                                break;
                        }
                    }
                }
                EndReasoning(stream, ref reasoningId, ref protectedData);
                if (textId is not null) stream.Write("text-end", static (w, id) => w.WriteString("id", id), textId);

                // What the model said goes back to it whole on the next step: reasoning with its signature or
                // encrypted content (Anthropic, OpenAI), calls with what the provider attached (Gemini's signatures).
                var assistant = new ChatMessage(ChatRole.Assistant, [.. received.ToChatResponse().Messages
                    .SelectMany(m => m.Contents).Where(c => c is TextContent or TextReasoningContent or FunctionCallContent)]);
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
                        if (s.call.AdditionalProperties?.TryGetValue(ProviderMetadata.ThoughtSignature, out var signature) == true && signature is string value)
                            ProviderMetadata.Write(w, ProviderMetadata.ThoughtSignature, value);
                    }, (call, raw));
                }
                messages.Add(assistant);

                // Server calls run now; a client tool's call is the browser's, and a call awaiting approval waits for
                // the user: either ends the turn after this step, and the next request carries the outcome.
                var results = new ChatMessage(ChatRole.Tool, []);
                var waiting = false;
                await stream.FlushAsync(ct);
                foreach (var call in calls)
                {
                    if (clientTools.Contains(call.Name))
                    {
                        waiting = true;
                        continue;
                    }
                    // Arguments that are not JSON never reach the tool; the model reads why and can try again.
                    var reply = call.Exception is null
                        ? await tools.ExecuteAsync(call.Name, ToolArguments.ToJson(call), call.CallId, caller, scope, null, ct)
                        : new ToolReply(InvalidArguments, true, null);
                    if (reply.ApprovalRequired is { } approval)
                    {
                        waiting = true;
                        stream.Write("tool-approval-request", static (w, s) =>
                        {
                            w.WriteString("approvalId", s.approval.Id);
                            w.WriteString("toolCallId", s.CallId);
                            w.WriteString("signature", s.approval.Signature);
                        }, (approval, call.CallId));
                        continue;
                    }
                    // Tool failures are the model's to read ({ok:false, error:{…}}), so it can recover.
                    WriteOutput(stream, call.CallId, reply.OutputJson);
                    await stream.FlushAsync(ct);
                    results.Contents.Add(new FunctionResultContent(call.CallId, reply.OutputJson));
                    if (reply.IsError) logger.LogInformation("Tool {Tool} returned an error to the model", call.Name);
                }
                if (results.Contents.Count > 0) messages.Add(results);
                stream.Write("finish-step");
                finishReason = TurnUsage.FinishReason(stepReason ?? (calls.Count > 0 ? ChatFinishReason.ToolCalls : null));
                if (calls.Count == 0 || waiting) break;
            }
        }
        catch (ProviderException e)
        {
            stream.Write("error", static (w, m) => w.WriteString("errorText", m), e.Message);
            await stream.WriteDoneAsync(ct);
            return "error";
        }

        // The reference's order: finish, then its own data-usage frame, then [DONE].
        stream.Write("finish", static (w, reason) => w.WriteString("finishReason", reason), finishReason);
        stream.Write("data-usage", static (w, u) => u.WriteData(w), usage);
        await stream.WriteDoneAsync(ct);
        return "ok";
    }

    /// <summary>
    /// The calls the user answered: approved ones run (with the approval the server issued; one that is forged,
    /// edited, replayed or someone else's runs nothing and streams <c>tool-output-error</c>), denied ones stream
    /// <c>tool-output-denied</c>. Their results join the conversation before the model is called, as in the AI SDK.
    /// </summary>
    private async Task AnswerApprovalsAsync(Conversation conversation, Caller caller, ToolScope scope, UiMessageStreamWriter stream, CancellationToken ct)
    {
        var messages = conversation.Messages;
        if (messages.Count == 0 || messages[^1].Role != ChatRole.Tool) messages.Add(new ChatMessage(ChatRole.Tool, []));
        var results = messages[^1];
        foreach (var answer in conversation.Approvals)
        {
            var reply = await tools.ExecuteAsync(answer.ToolName, answer.InputJson, answer.ToolCallId, caller, scope,
                new Approval { Id = answer.Id, Signature = answer.Signature, Denied = !answer.Approved }, ct);
            var outputJson = reply.OutputJson;
            if (!answer.Approved)
            {
                stream.Write("tool-output-denied", static (w, id) => w.WriteString("toolCallId", id), answer.ToolCallId);
                if (outputJson.Length == 0) outputJson = UiMessages.DeniedOutput;
            }
            else if (reply.ApprovalRequired is not null || ErrorCode(outputJson) == "APPROVAL_INVALID")
            {
                var message = reply.ApprovalRequired is not null ? "This approval was not issued by the server; nothing ran." : ErrorMessage(outputJson);
                logger.LogWarning("An approval for tool call {ToolCallId} was refused", answer.ToolCallId);
                stream.Write("tool-output-error", static (w, s) => { w.WriteString("toolCallId", s.ToolCallId); w.WriteString("errorText", s.message); }, (answer.ToolCallId, message));
                if (reply.ApprovalRequired is not null)
                    outputJson = JsonSerializer.Serialize(new { ok = false, error = new { code = "APPROVAL_INVALID", message, recoverable = false } });
            }
            else WriteOutput(stream, answer.ToolCallId, outputJson);
            results.Contents.Add(new FunctionResultContent(answer.ToolCallId, outputJson));
        }
        await stream.FlushAsync(ct);
    }

    /// <summary>
    /// Flushes while the provider's next update is on its way. A stop cancels the flush; the provider's read, cancelled
    /// by the same token, is awaited before the updates are disposed, so its answer and connection are let go of at once.
    /// </summary>
    private static async ValueTask FlushWhileWaitingAsync(UiMessageStreamWriter stream, ValueTask<bool> next, CancellationToken ct)
    {
        try
        {
            await stream.FlushAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            try { await next; }
            catch (Exception) when (ct.IsCancellationRequested) { }
            throw;
        }
    }

    /// <summary>Ends the open reasoning block; its signature or encrypted content goes to the browser to send back.</summary>
    private static void EndReasoning(UiMessageStreamWriter stream, ref string? reasoningId, ref string? protectedData)
    {
        if (reasoningId is null) return;
        stream.Write("reasoning-end", static (w, s) =>
        {
            w.WriteString("id", s.reasoningId);
            if (s.protectedData is not null) ProviderMetadata.Write(w, ProviderMetadata.ProtectedData, s.protectedData);
        }, (reasoningId, protectedData));
        reasoningId = null;
        protectedData = null;
    }

    private static void WriteOutput(UiMessageStreamWriter stream, string callId, string outputJson) =>
        stream.Write("tool-output-available", static (w, s) =>
        {
            w.WriteString("toolCallId", s.callId);
            w.WritePropertyName("output");
            WriteJsonOrString(w, s.outputJson);
        }, (callId, outputJson));

    private static string? ErrorCode(string json) => Error(json)?["code"]?.GetValue<string>();

    private static string ErrorMessage(string json) => Error(json)?["message"]?.GetValue<string>() ?? "The approval was not honoured; nothing ran.";

    private static System.Text.Json.Nodes.JsonNode? Error(string json)
    {
        try { return System.Text.Json.Nodes.JsonNode.Parse(json)?["error"]; }
        catch (JsonException) { return null; }
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
