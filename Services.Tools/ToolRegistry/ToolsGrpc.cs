using AiAssistant.Contracts.Tools;
using Grpc.Core;
using ToolsService = AiAssistant.Contracts.Tools.Tools;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>
/// gRPC <c>Tools.ListTools</c> / <c>Tools.ExecuteTool</c>, for callers with the service credential. The end user
/// travels as the request's <c>Caller</c>, and each tool runs with exactly that user's permissions.
/// </summary>
public sealed class ToolsGrpc(ToolRegistry registry) : ToolsService.ToolsBase
{
    public override Task<ListToolsReply> ListTools(ListToolsRequest request, ServerCallContext context)
    {
        var reply = new ListToolsReply();
        foreach (var tool in registry.List(request.Names))
            reply.Tools.Add(new ToolDefinition
            {
                Name = tool.Name, Description = tool.Description, InputSchemaJson = tool.InputSchema, ReadOnly = tool.ReadOnly,
            });
        return Task.FromResult(reply);
    }

    public override Task<ExecuteToolReply> ExecuteTool(ExecuteToolRequest request, ServerCallContext context) =>
        registry.ExecuteAsync(request, context.CancellationToken);
}
