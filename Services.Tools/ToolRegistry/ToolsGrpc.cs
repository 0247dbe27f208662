using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Access;
using Grpc.Core;
using ToolsService = AiAssistant.Contracts.Tools.Tools;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>
/// gRPC <c>Tools.ListTools</c> / <c>Tools.ExecuteTool</c>, for callers with the service credential (the Chat
/// service). The end user travels as the request's <c>Caller</c>; each call runs with exactly that user's permissions,
/// in the request's <c>ToolScope</c> (the tools it named, the user's approval modes).
/// </summary>
public sealed class ToolsGrpc(ToolRegistry registry) : ToolsService.ToolsBase
{
    public override Task<ListToolsReply> ListTools(ListToolsRequest request, ServerCallContext context)
    {
        var reply = new ListToolsReply();
        foreach (var tool in registry.Roots)
            reply.Tools.Add(new ToolDefinition
            {
                Name = tool.Name, Description = tool.Description, InputSchemaJson = tool.InputSchema.ToJsonString(), ReadOnly = tool.ReadOnly,
            });
        return Task.FromResult(reply);
    }

    public override async Task<ExecuteToolReply> ExecuteTool(ExecuteToolRequest request, ServerCallContext context)
    {
        JsonNode? input;
        try
        {
            input = string.IsNullOrWhiteSpace(request.InputJson) ? new JsonObject() : JsonNode.Parse(request.InputJson);
        }
        catch (JsonException)
        {
            input = JsonValue.Create(request.InputJson);
        }
        // No approval: the first attempt (an approval is issued if needed). An answer without an id is not one.
        var answer = new ApprovalAnswer(request.ToolCallId,
            request.Approval is { } a ? new ApprovalTicket(a.Id, a.Signature) : null, request.Approval?.Denied == true);
        var outcome = await registry.CallRootAsync(request.Name, input, Identity(request.Caller), Scope(request.Scope), answer, context.CancellationToken);
        if (outcome.ApprovalRequired is { } ticket)
            return new ExecuteToolReply { ApprovalRequired = new Approval { Id = ticket.Id, Signature = ticket.Signature } };
        return new ExecuteToolReply { OutputJson = outcome.ToEnvelope().ToJsonString(), IsError = outcome.IsError };
    }

    public static CallerIdentity? Identity(Caller? caller) =>
        caller is null || caller.UserId.Length == 0 ? null : new CallerIdentity(caller.UserId, caller.RoleId.Length == 0 ? null : caller.RoleId, caller.Admin, caller.App);

    public static ToolScope Scope(AiAssistant.Contracts.Tools.ToolScope? scope) => new(
        ToolSurface.Chat,
        (scope?.Names ?? []).ToHashSet(StringComparer.Ordinal),
        scope?.Approvals is { Count: > 0 } approvals ? approvals.ToDictionary(p => p.Key, p => p.Value) : ToolScope.NoApprovals);
}
