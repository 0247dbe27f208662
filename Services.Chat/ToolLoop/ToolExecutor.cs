using System.Text.Json;
using AiAssistant.Contracts.Tools;
using Grpc.Core;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.ToolLoop;

/// <summary>One server tool call's end: the output the model reads, or an approval request (nothing ran).</summary>
public sealed record ToolReply(string OutputJson, bool IsError, Approval? ApprovalRequired);

/// <summary>
/// The server tools, over gRPC to the Tools service: the root tools' declarations (<c>search</c>, <c>execute</c>,
/// <c>schema</c>; the same for every caller, cached 5 s, kept while Tools is away) and their calls, under the caller's identity and the
/// request's <see cref="ToolScope"/>. Tools decides what the caller may see and run, and whether a call needs approval.
/// </summary>
public sealed class ToolExecutor(Tools.ToolsClient client, ILogger<ToolExecutor> logger)
{
    private static readonly TimeSpan ListCacheFor = TimeSpan.FromSeconds(5);
    private sealed record ToolList(DateTimeOffset At, IReadOnlyList<AIFunctionDeclaration> Tools);
    private ToolList? _cached;

    public async Task<IReadOnlyList<AIFunctionDeclaration>> DeclarationsAsync(Caller caller, CancellationToken ct)
    {
        if (_cached is { } c && DateTimeOffset.UtcNow - c.At < ListCacheFor) return c.Tools;
        ListToolsReply reply;
        try
        {
            reply = await client.ListToolsAsync(new ListToolsRequest { Caller = caller }, cancellationToken: ct);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !ct.IsCancellationRequested)
        {
            // Tools is away: the turn goes on with the declarations last seen (their calls then fail as recoverable
            // tool errors, see ExecuteAsync), or without server tools if this replica never saw any.
            logger.LogWarning("Tool declarations unavailable (gRPC {Status}); using {Count} last seen", e.StatusCode, _cached?.Tools.Count ?? 0);
            return _cached?.Tools ?? [];
        }
        var tools = reply.Tools.Select(t =>
        {
            using var schema = JsonDocument.Parse(t.InputSchemaJson);
            return AIFunctionFactory.CreateDeclaration(t.Name, t.Description, schema.RootElement.Clone());
        }).ToList();
        _cached = new ToolList(DateTimeOffset.UtcNow, tools);
        return tools;
    }

    /// <summary>Runs one call; <paramref name="approval"/> carries the user's answer to an earlier approval request.</summary>
    public async Task<ToolReply> ExecuteAsync(string name, string inputJson, string toolCallId, Caller caller, ToolScope scope,
        Approval? approval, CancellationToken ct)
    {
        try
        {
            var request = new ExecuteToolRequest { Caller = caller, Name = name, InputJson = inputJson, Scope = scope, ToolCallId = toolCallId };
            if (approval is not null) request.Approval = approval;
            var reply = await client.ExecuteToolAsync(request, cancellationToken: ct);
            return new ToolReply(reply.OutputJson, reply.IsError, reply.ApprovalRequired);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !ct.IsCancellationRequested)
        {
            logger.LogWarning("Tool {Tool} could not be executed: gRPC {Status}", name, e.StatusCode);
            return new ToolReply(JsonSerializer.Serialize(new
            {
                ok = false, error = new { code = "SERVICE_UNAVAILABLE", message = "The tools service could not run the tool; try again.", recoverable = true },
            }), true, null);
        }
    }
}
