using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Services.Tools.ToolRegistry;
using static AiAssistant.Services.Tools.AssistantTools.SchemaToolInput;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>trigger-flow</c>: only an active flow with a <c>manual</c> trigger (else 403, as a flow the
/// caller cannot read); each required field of its <c>options.fields</c> must be in <c>data</c>; then it runs as
/// <c>POST /flows/trigger/:id</c> with the body <c>{collection, keys, ...data}</c>, as the caller, and answers
/// <c>{data: result}</c>. Never read-only: the registry asks for approval unless the user set it to <c>always</c>.
/// </summary>
public sealed class TriggerFlowTool(FlowStore store, FlowTriggers triggers) : IToolHandler
{
    public string Name => "trigger-flow";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        RequireAdmin(call);
        var input = call.Input;
        var id = Guid.TryParse(input["id"]!.GetValue<string>(), out var flowId) ? flowId : throw DirectusException.InvalidPayload("\"id\" must be a flow's id (a UUID)", "id");
        if (await store.FlowAsync(id, call.Aborted) is not { Status: "active", Trigger: "manual" }) throw DirectusException.Forbidden();
        var body = new JsonObject { ["collection"] = input["collection"]!.DeepClone(), ["keys"] = input["keys"]?.DeepClone() ?? new JsonArray() };
        foreach (var (name, value) in input["data"] as JsonObject ?? []) body[name] = value?.DeepClone();
        var headers = new JsonObject((input["headers"] as JsonObject ?? []).Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), h.Value?.DeepClone())));
        var request = new FlowRequest(id, "POST", body, input["query"]?.DeepClone() as JsonObject ?? [], headers, call.Caller.Identity,
            FlowActor.From(call.Caller.Writer));
        return new JsonObject { ["data"] = await triggers.RunAsync(request, call.Aborted) };
    }
}
