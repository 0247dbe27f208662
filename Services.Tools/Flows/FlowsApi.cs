using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Query;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// <c>/flows</c> and <c>/operations</c> in Directus's shapes (<c>{"data": …}</c>), admins only as in Directus: reads
/// take <c>filter</c>, <c>sort</c>, <c>fields</c> (relations expanded), <c>limit</c> and <c>offset</c> (<see cref="FlowQueries"/>); a write answers the record read back;
/// an unknown id is 403. <c>/flows/trigger/:id</c> is open to the trigger's own callers.
/// </summary>
public static class FlowsApi
{
    public static IEndpointRouteBuilder MapFlowsApi(this IEndpointRouteBuilder app)
    {
        var flows = app.MapGroup("/flows").AddEndpointFilter(Admin);
        flows.MapGet("", async (HttpContext context, FlowStore store, CancellationToken ct) =>
        {
            var (all, operations) = await store.ReadAsync(ct);
            return Data(Select(all.Select(f => f.Json(operations)), context, FlowTables.Flows, FlowQueries.FlowRelations(operations)));
        }).WithName("ReadFlows");
        flows.MapGet("/{id:guid}", async (Guid id, FlowStore store, CancellationToken ct) => Data(await FlowAsync(store, id, ct))).WithName("ReadFlow");
        flows.MapPost("", async (HttpContext context, FlowStore store, CancellationToken ct) =>
            Data(await FlowAsync(store, await store.CreateFlowAsync(await JsonBody.ReadObjectAsync(context.Request, ct), Actor(context), ct), ct))).WithName("CreateFlow");
        flows.MapPatch("/{id:guid}", async (Guid id, HttpContext context, FlowStore store, CancellationToken ct) =>
            Data(await FlowAsync(store, await store.UpdateFlowAsync(id, await JsonBody.ReadObjectAsync(context.Request, ct), Actor(context), ct), ct))).WithName("UpdateFlow");
        flows.MapDelete("/{id:guid}", async (Guid id, HttpContext context, FlowStore store, CancellationToken ct) =>
        {
            await store.DeleteFlowAsync(id, Actor(context), ct);
            return TypedResults.NoContent();
        }).WithName("DeleteFlow");

        flows.MapGet("/trigger/{id:guid}", (Guid id, HttpContext context, FlowTriggers triggers, CancellationToken ct) => TriggerAsync(id, context, triggers, ct))
            .WithName("TriggerFlowByGet");
        flows.MapPost("/trigger/{id:guid}", (Guid id, HttpContext context, FlowTriggers triggers, CancellationToken ct) => TriggerAsync(id, context, triggers, ct))
            .WithName("TriggerFlow");

        var operations = app.MapGroup("/operations").AddEndpointFilter(Admin);
        operations.MapGet("", async (HttpContext context, FlowStore store, CancellationToken ct) =>
        {
            var (all, records) = await store.ReadAsync(ct);
            return Data(Select(records.Select(o => o.Json()), context, FlowTables.Operations, FlowQueries.OperationRelations(all, records)));
        }).WithName("ReadOperations");
        operations.MapGet("/{id:guid}", async (Guid id, FlowStore store, CancellationToken ct) => Data(await OperationAsync(store, id, ct))).WithName("ReadOperation");
        operations.MapPost("", async (HttpContext context, FlowStore store, CancellationToken ct) =>
            Data(await OperationAsync(store, await store.CreateOperationAsync(await JsonBody.ReadObjectAsync(context.Request, ct), Actor(context), ct), ct)))
            .WithName("CreateOperation");
        operations.MapPatch("/{id:guid}", async (Guid id, HttpContext context, FlowStore store, CancellationToken ct) =>
            Data(await OperationAsync(store, await store.UpdateOperationAsync(id, await JsonBody.ReadObjectAsync(context.Request, ct), Actor(context), ct), ct)))
            .WithName("UpdateOperation");
        operations.MapDelete("/{id:guid}", async (Guid id, HttpContext context, FlowStore store, CancellationToken ct) =>
        {
            await store.DeleteOperationAsync(id, Actor(context), ct);
            return TypedResults.NoContent();
        }).WithName("DeleteOperation");
        return app;
    }

    private static ValueTask<object?> Admin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        // the trigger routes are open to their own callers; every other flows route is for admins
        if (context.HttpContext.Request.Path.StartsWithSegments("/flows/trigger")) return next(context);
        context.HttpContext.RequireAdmin();
        return next(context);
    }

    /// <summary>A trigger's answer is the flow's result itself, as Directus sends it; nothing is 204.</summary>
    private static async Task<IResult> TriggerAsync(Guid id, HttpContext context, FlowTriggers triggers, CancellationToken ct)
    {
        var request = context.Request;
        var body = request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0 ? await JsonBody.ReadObjectAsync(request, ct) : [];
        var query = new JsonObject(request.Query.Select(q => KeyValuePair.Create(q.Key, (JsonNode?)JsonValue.Create(q.Value.ToString()))));
        var headers = new JsonObject(request.Headers.Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), (JsonNode?)JsonValue.Create(h.Value.ToString()))));
        var result = await triggers.RunAsync(new FlowRequest(id, request.Method, body, query, headers, context.Caller(), Actor(context)), ct);
        return result is null ? Results.NoContent() : Results.Json(result);
    }

    public static async Task<JsonObject> FlowAsync(FlowStore store, Guid id, CancellationToken ct)
    {
        var flow = await store.FlowAsync(id, ct) ?? throw DirectusException.Forbidden();
        return flow.Json(await store.OperationsAsync(id, ct));
    }

    public static async Task<JsonObject> OperationAsync(FlowStore store, Guid id, CancellationToken ct) =>
        (await store.ReadAsync(ct)).Operations.FirstOrDefault(o => o.Id == id)?.Json() ?? throw DirectusException.Forbidden();

    /// <summary>The records the request's query selects, in its order and with its fields (<see cref="FlowQueries"/>).</summary>
    public static JsonArray Select(IEnumerable<JsonObject> records, HttpContext context, string collection,
        IReadOnlyDictionary<string, FlowQueries.Expand>? relations = null)
    {
        var caller = context.Caller();
        var reader = context.RequestServices.GetRequiredService<ItemsReader>();
        return FlowQueries.Select(records, QueryParser.Parse(context.Request.Query), reader.Context(caller?.UserId, caller?.RoleId, []), collection, relations);
    }

    private static IResult Data(JsonNode data) => Results.Json(new JsonObject { ["data"] = data });

    public static FlowActor Actor(HttpContext context) => new(
        Guid.TryParse(context.Caller()?.UserId, out var user) ? user : null, context.Connection.RemoteIpAddress?.ToString(),
        context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent : null,
        context.Request.Headers.Origin.ToString() is { Length: > 0 } origin ? origin : null);
}
