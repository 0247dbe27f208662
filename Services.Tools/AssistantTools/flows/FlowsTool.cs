using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Services.Tools.ToolRegistry;
using static AiAssistant.Services.Tools.AssistantTools.SchemaToolInput;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>flows</c> tool (admins only) over <see cref="FlowStore"/>, answering <c>/flows</c>'s shapes:
/// create (nested <c>operations</c> laid out), read by query, update, delete (answers the key).
/// </summary>
public sealed class FlowsTool(FlowStore store) : IToolHandler
{
    public string Name => "flows";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        RequireAdmin(call);
        var (actor, ct) = (FlowActor.From(call.Caller.Writer), call.Aborted);
        switch (call.Action)
        {
            case "create":
                return await FlowsApi.FlowAsync(store, await store.CreateFlowAsync(call.Input["data"]!.AsObject(), actor, ct), ct);
            case "read":
                var (flows, operations) = await store.ReadAsync(ct);
                return FlowQueries.Select(flows.Select(f => f.Json(operations)), ItemActions.Query(call), call.Caller.Writer.Context, FlowTables.Flows,
                    FlowQueries.FlowRelations(operations));
            case "update":
                return await FlowsApi.FlowAsync(store, await store.UpdateFlowAsync(Key(call), call.Input["data"]!.AsObject(), actor, ct), ct);
            case "delete":
                return JsonValue.Create((await store.DeleteFlowAsync(Key(call), actor, ct)).ToString());
            default:
                throw ItemActions.UnknownAction(call);
        }
    }

    public string? Link(JsonObject input, JsonObject record) =>
        record["id"] is JsonValue id && record.ContainsKey("trigger") ? $"settings/flows/{id}" : null;

    /// <summary>The call's <c>key</c> as an id; anything else is 400 naming it.</summary>
    public static Guid Key(ToolCall call) =>
        Guid.TryParse(call.Input["key"]?.GetValue<string>(), out var key) ? key : throw DirectusException.InvalidPayload("\"key\" must be an id (a UUID)", "key");
}
