using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using Npgsql;
using NpgsqlTypes;
using static AiAssistant.Services.Tools.Flows.FlowJson;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>Who changes flows, as the activity rows record it.</summary>
public sealed record FlowActor(Guid? User, string? Ip, string? UserAgent, string? Origin)
{
    public static FlowActor From(WriteCaller caller) =>
        new(Guid.TryParse(caller.Context.UserId, out var user) ? user : null, caller.Ip, caller.UserAgent, caller.Origin);
}

/// <summary>
/// Flows and operations, read and written. Each change is one transaction over the whole of every flow it touches:
/// the flows' rows are locked, the change is applied to their records in memory, the result validated
/// (<see cref="FlowValidation"/>) and laid out (<see cref="FlowLayout"/>) when an operation came without a position or
/// one was deleted, and only then are the rows that differ written, each with its activity row and revision. A bad
/// change writes nothing.
/// </summary>
public sealed class FlowStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    public async Task<(IReadOnlyList<FlowRecord> Flows, IReadOnlyList<OperationRecord> Operations)> ReadAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await FlowsAsync(connection, null, null, ct), await OperationsAsync(connection, null, null, ct));
    }

    public async Task<FlowRecord?> FlowAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await FlowsAsync(connection, null, [id], ct)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<OperationRecord>> OperationsAsync(Guid flow, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await OperationsAsync(connection, null, [flow], ct);
    }

    /// <summary>
    /// A new flow; <c>operations</c> may hold its operations (each with an <c>id</c> of its own choosing when links
    /// or <c>operation</c> point at it). Answers the new flow's id.
    /// </summary>
    public Task<Guid> CreateFlowAsync(JsonObject data, FlowActor actor, CancellationToken ct) => ChangeAsync([], actor, state =>
    {
        var flow = new FlowRecord { Id = Id(data, "id", "") ?? Guid.NewGuid(), DateCreated = time.GetUtcNow(), UserCreated = actor.User };
        var fields = (JsonObject)data.DeepClone();
        var nested = fields["operations"];
        fields.Remove("operations");
        ApplyFlow(flow, fields, creating: true);
        state.Add(flow);
        if (nested is not null) state.SetOperations(flow, nested, actor, time);
        return flow.Id;
    }, ct);

    /// <summary>
    /// Changes a flow's fields; <c>operations</c>, when given, is the whole set as Directus's one-to-many takes it:
    /// an id keeps that operation, an object with an id changes it, one without creates it; those not named are deleted.
    /// </summary>
    public Task<Guid> UpdateFlowAsync(Guid id, JsonObject data, FlowActor actor, CancellationToken ct) => ChangeAsync([id], actor, state =>
    {
        var flow = state.Flow(id);
        var fields = (JsonObject)data.DeepClone();
        var nested = fields["operations"];
        fields.Remove("operations");
        fields.Remove("id");
        ApplyFlow(flow, fields, creating: false);
        if (data.ContainsKey("operations")) state.SetOperations(flow, nested, actor, time);
        return id;
    }, ct);

    public Task<Guid> DeleteFlowAsync(Guid id, FlowActor actor, CancellationToken ct) => ChangeAsync([id], actor, state =>
    {
        state.Remove(state.Flow(id));
        return id;
    }, ct);

    /// <summary>A new operation in the flow its <c>flow</c> names; without a position the flow is laid out.</summary>
    public async Task<Guid> CreateOperationAsync(JsonObject data, FlowActor actor, CancellationToken ct)
    {
        var flowId = Id(data, "flow", "") ?? throw Invalid("flow", "\"flow\" is required: the id of the flow this operation belongs to");
        return await ChangeAsync([flowId], actor, state =>
        {
            var operation = state.NewOperation(state.Flow(flowId), data, "", actor, time);
            return operation.Id;
        }, ct);
    }

    /// <summary>Changes an operation; it may move to another flow only while nothing links to or from it.</summary>
    public async Task<Guid> UpdateOperationAsync(Guid id, JsonObject data, FlowActor actor, CancellationToken ct)
    {
        var current = await OperationAsync(id, ct);
        var target = Id(data, "flow", "");
        Guid[] flows = target is { } moved && moved != current.Flow ? [current.Flow, moved] : [current.Flow];
        return await ChangeAsync(flows, actor, state =>
        {
            var operation = state.Operation(id);
            var fields = (JsonObject)data.DeepClone();
            fields.Remove("flow");
            fields.Remove("id");
            PositionsTogether(fields, "");
            ApplyOperation(operation, fields, creating: false, "");
            if (flows.Length == 2) state.Move(operation, state.Flow(flows[1]));
            return id;
        }, ct);
    }

    public async Task<Guid> DeleteOperationAsync(Guid id, FlowActor actor, CancellationToken ct)
    {
        var current = await OperationAsync(id, ct);
        return await ChangeAsync([current.Flow], actor, state =>
        {
            state.RemoveOperation(state.Operation(id));
            return id;
        }, ct);
    }

    private async Task<OperationRecord> OperationAsync(Guid id, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return (await OperationsAsync(connection, null, null, ct, [id])).FirstOrDefault() ?? throw DirectusException.Forbidden();
    }

    public static void PositionsTogether(JsonObject data, string prefix)
    {
        if (Has(data, "position_x") != Has(data, "position_y"))
            throw Invalid(prefix + (Has(data, "position_x") ? "position_y" : "position_x"), "Give both \"position_x\" and \"position_y\", or neither to have the operation laid out");
    }

    private async Task<Guid> ChangeAsync(Guid[] flowIds, FlowActor actor, Func<FlowState, Guid> change, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var flows = await FlowsAsync(connection, transaction, flowIds, ct, forUpdate: true);
        if (flows.Count != flowIds.Distinct().Count()) throw DirectusException.Forbidden(); // an unknown flow, as Directus: 403
        var state = new FlowState(flows, await OperationsAsync(connection, transaction, flowIds, ct));
        var result = change(state);
        state.Check();
        try
        {
            await state.WriteAsync(transaction, actor, ct);
            await transaction.CommitAsync(ct);
        }
        catch (PostgresException e)
        {
            throw await WriteErrors.FromAsync(e, dataSource, ct);
        }
        return result;
    }

    /// <summary>A flow row's columns, in the order <see cref="ReadFlowsAsync"/> reads them (<c>f</c> names the table).</summary>
    public const string FlowColumns =
        "f.id, f.name, f.icon, f.color, f.description, f.status, f.trigger, f.accountability, f.options::text, f.operation, f.date_created, f.user_created";

    private static async Task<List<FlowRecord>> FlowsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid[]? ids, CancellationToken ct,
        bool forUpdate = false)
    {
        await using var cmd = new NpgsqlCommand(
            $"select {FlowColumns} from directus_flows f" + (ids is null ? "" : " where id = any($1)") + " order by date_created, id" + (forUpdate ? " for update" : ""),
            connection, transaction);
        if (ids is not null) cmd.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        return await ReadFlowsAsync(cmd, ct);
    }

    /// <summary>The flows a command selecting <see cref="FlowColumns"/> answers.</summary>
    public static async Task<List<FlowRecord>> ReadFlowsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var flows = new List<FlowRecord>();
        while (await reader.ReadAsync(ct))
            flows.Add(new FlowRecord
            {
                Id = reader.GetGuid(0), Name = reader.GetString(1), Icon = Text(reader, 2), Color = Text(reader, 3), Description = Text(reader, 4),
                Status = reader.GetString(5), Trigger = reader.GetString(6), Accountability = Text(reader, 7),
                Options = JsonNode.Parse(reader.GetString(8)) as JsonObject ?? [], Operation = reader.IsDBNull(9) ? null : reader.GetGuid(9),
                DateCreated = reader.GetFieldValue<DateTimeOffset>(10), UserCreated = reader.IsDBNull(11) ? null : reader.GetGuid(11),
            });
        return flows;
    }

    private static async Task<List<OperationRecord>> OperationsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid[]? flows,
        CancellationToken ct, Guid[]? ids = null)
    {
        var where = flows is not null ? " where flow = any($1)" : ids is not null ? " where id = any($1)" : "";
        await using var cmd = new NpgsqlCommand(
            "select id, name, key, type, position_x, position_y, options::text, resolve, reject, flow, date_created, user_created " +
            "from directus_operations" + where + " order by date_created, position_y, position_x, id", connection, transaction);
        if ((flows ?? ids) is { } filter) cmd.Parameters.Add(new NpgsqlParameter { Value = filter, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var operations = new List<OperationRecord>();
        while (await reader.ReadAsync(ct))
            operations.Add(new OperationRecord
            {
                Id = reader.GetGuid(0), Name = Text(reader, 1), Key = reader.GetString(2), Type = reader.GetString(3),
                PositionX = reader.GetInt32(4), PositionY = reader.GetInt32(5), Options = JsonNode.Parse(reader.GetString(6)) as JsonObject ?? [],
                Resolve = reader.IsDBNull(7) ? null : reader.GetGuid(7), Reject = reader.IsDBNull(8) ? null : reader.GetGuid(8),
                Flow = reader.GetGuid(9), DateCreated = reader.GetFieldValue<DateTimeOffset>(10), UserCreated = reader.IsDBNull(11) ? null : reader.GetGuid(11),
            });
        return operations;
    }

    private static string? Text(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}
