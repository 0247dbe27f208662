using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Services.Tools.ToolRegistry;
using static AiAssistant.Services.Tools.AssistantTools.SchemaToolInput;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>operations</c> tool (admins only) over <see cref="FlowStore"/>, answering <c>/operations</c>'s
/// shapes: without a position an operation is laid out with its flow; a linked one cannot move to another flow; a
/// delete lays its flow out again.
/// </summary>
public sealed class OperationsTool(FlowStore store) : IToolHandler
{
    public string Name => "operations";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        RequireAdmin(call);
        var (actor, ct) = (FlowActor.From(call.Caller.Writer), call.Aborted);
        switch (call.Action)
        {
            case "create":
                return await FlowsApi.OperationAsync(store, await store.CreateOperationAsync(call.Input["data"]!.AsObject(), actor, ct), ct);
            case "read":
                var (flows, operations) = await store.ReadAsync(ct);
                return FlowQueries.Select(operations.Select(o => o.Json()), ItemActions.Query(call), call.Caller.Writer.Context, FlowTables.Operations,
                    FlowQueries.OperationRelations(flows, operations));
            case "update":
                return await FlowsApi.OperationAsync(store, await store.UpdateOperationAsync(FlowsTool.Key(call), call.Input["data"]!.AsObject(), actor, ct), ct);
            case "delete":
                return JsonValue.Create((await store.DeleteOperationAsync(FlowsTool.Key(call), actor, ct)).ToString());
            default:
                throw ItemActions.UnknownAction(call);
        }
    }

    /// <summary>An operation lives in its flow's editor.</summary>
    public string? Link(JsonObject input, JsonObject record) => record["flow"] is JsonValue flow ? $"settings/flows/{flow}" : null;
}
