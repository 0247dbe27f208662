using AiAssistant.Contracts.Tools;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Grpc;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>gRPC <c>Tools.ListTools</c> / <c>Tools.ExecuteTool</c>, for callers with the service credential.</summary>
public static class ToolsGrpc
{
    public const string Service = "aiassistant.tools.v1.Tools";

    public static IEndpointRouteBuilder MapToolsGrpc(this IEndpointRouteBuilder app)
    {
        app.MapGrpcUnary<ListToolsRequest, ListToolsReply>(Service, "ListTools", (request, call) =>
        {
            BearerTokens.RequireInternal(call);
            var reply = new ListToolsReply();
            foreach (var tool in call.HttpContext.RequestServices.GetRequiredService<ToolRegistry>().List(request.Names))
                reply.Tools.Add(new ToolDefinition
                {
                    Name = tool.Name, Description = tool.Description, InputSchemaJson = tool.InputSchema, ReadOnly = tool.ReadOnly,
                });
            return Task.FromResult(reply);
        });
        app.MapGrpcUnary<ExecuteToolRequest, ExecuteToolReply>(Service, "ExecuteTool", (request, call) =>
        {
            BearerTokens.RequireInternal(call);
            return call.HttpContext.RequestServices.GetRequiredService<ToolRegistry>().ExecuteAsync(request, call.CancellationToken);
        });
        return app;
    }

}
