using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>One request to <c>/flows/trigger/:id</c> (or the <c>trigger-flow</c> tool's), as the flow's <c>$trigger</c> sees it.</summary>
public sealed record FlowRequest(Guid Flow, string Method, JsonObject Body, JsonObject Query, JsonObject Headers, CallerIdentity? Caller, FlowActor Actor)
{
    public JsonObject Trigger => new()
    {
        ["path"] = $"/trigger/{Flow}", ["query"] = Query.DeepClone(), ["body"] = Body.DeepClone(), ["method"] = Method, ["headers"] = Headers.DeepClone(),
    };
}

/// <summary>
/// The triggers a request starts, as Directus's flow manager registers them: an active <c>manual</c> flow takes
/// <c>POST</c> with a <c>collection</c> among its <c>options.collections</c> (else 403) and every required field of
/// <c>options.fields</c> (400 <c>Required field "x" is missing</c>); an active <c>webhook</c> flow takes its
/// <c>options.method</c> (<c>GET</c> by default). Any other flow, method or id is 403. The run is the caller's
/// (<c>$trigger</c> permissions); it answers the flow's result, or nothing at once with <c>options.async</c>.
/// </summary>
public sealed class FlowTriggers(FlowStore store, FlowRunner runner, ILogger<FlowTriggers> log)
{
    public async Task<JsonNode?> RunAsync(FlowRequest request, CancellationToken ct)
    {
        var flow = await store.FlowAsync(request.Flow, ct);
        if (flow is not { Status: "active" }) throw DirectusException.Forbidden();
        var method = flow.Options["method"]?.GetValue<string>() ?? "GET";
        switch (flow.Trigger)
        {
            case "manual" when request.Method == "POST":
                CheckManual(flow, request.Body);
                break;
            case "webhook" when request.Method == method:
                break;
            default:
                throw DirectusException.Forbidden();
        }
        if (flow.Options["async"] is JsonValue a && a.GetValueKind() == JsonValueKind.True)
        {
            // the caller gets its answer now; the run goes on after the request (and is recorded as any run)
            _ = Task.Run(async () =>
            {
                try
                {
                    await runner.RunAsync(flow, request.Trigger, request.Caller, request.Actor, CancellationToken.None);
                }
                catch (Exception e)
                {
                    log.LogWarning(e, "Flow {Flow} failed after its trigger answered", flow.Id);
                }
            }, CancellationToken.None);
            return null;
        }
        return (await runner.RunAsync(flow, request.Trigger, request.Caller, request.Actor, ct)).Result;
    }

    private static void CheckManual(FlowRecord flow, JsonObject body)
    {
        var collections = flow.Options["collections"] as JsonArray ?? [];
        if (body["collection"]?.GetValueKind() != JsonValueKind.String
            || !collections.Any(c => c?.GetValue<string>() == body["collection"]!.GetValue<string>()))
            throw DirectusException.Forbidden();
        foreach (var field in flow.Options["fields"] as JsonArray ?? [])
            if (field?["meta"]?["required"] is JsonValue r && r.GetValueKind() == JsonValueKind.True
                && field["field"]?.GetValue<string>() is { } name && body[name] is null)
                throw DirectusException.InvalidPayload($"Required field \"{name}\" is missing", name);
    }
}
