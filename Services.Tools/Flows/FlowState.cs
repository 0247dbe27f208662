using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using Npgsql;
using NpgsqlTypes;
using static AiAssistant.Services.Tools.Flows.FlowJson;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// The flows one change touches, as records in memory: the change edits them, <see cref="Check"/> validates the result,
/// <see cref="WriteAsync"/> writes only what differs from what was read, with an activity row and a revision each.
/// </summary>
internal sealed class FlowState
{
    private readonly Dictionary<Guid, FlowRecord> _before;
    private readonly Dictionary<Guid, OperationRecord> _operationsBefore;
    private readonly Dictionary<Guid, FlowRecord> _flows;
    private readonly List<OperationRecord> _operations;
    private readonly Dictionary<Guid, string> _names = new();
    private readonly HashSet<Guid> _relayout = new();

    public FlowState(IReadOnlyList<FlowRecord> flows, IReadOnlyList<OperationRecord> operations)
    {
        _before = flows.ToDictionary(f => f.Id);
        _operationsBefore = operations.ToDictionary(o => o.Id);
        _flows = flows.ToDictionary(f => f.Id, f => f.Clone());
        _operations = operations.Select(o => o.Clone()).ToList();
    }

    public FlowRecord Flow(Guid id) => _flows.TryGetValue(id, out var flow) ? flow : throw DirectusException.Forbidden();

    public OperationRecord Operation(Guid id) => _operations.FirstOrDefault(o => o.Id == id) ?? throw DirectusException.Forbidden();

    public void Add(FlowRecord flow) => _flows[flow.Id] = flow;

    public void Remove(FlowRecord flow)
    {
        _flows.Remove(flow.Id);
        _operations.RemoveAll(o => o.Flow == flow.Id);
    }

    public OperationRecord NewOperation(FlowRecord flow, JsonObject data, string prefix, FlowActor actor, TimeProvider time)
    {
        var fields = (JsonObject)data.DeepClone();
        fields.Remove("flow");
        FlowStore.PositionsTogether(fields, prefix);
        var operation = new OperationRecord
        {
            Id = Id(fields, "id", prefix) ?? Guid.NewGuid(), Flow = flow.Id, DateCreated = time.GetUtcNow(), UserCreated = actor.User,
        };
        fields.Remove("id");
        ApplyOperation(operation, fields, creating: true, prefix);
        if (_operations.Any(o => o.Id == operation.Id) || _operationsBefore.ContainsKey(operation.Id))
            throw Invalid(prefix + "id", $"An operation with the id \"{operation.Id}\" already exists");
        if (operation.PositionX is null) _relayout.Add(flow.Id);
        _names[operation.Id] = prefix;
        _operations.Add(operation);
        return operation;
    }

    /// <summary>A flow's <c>operations</c> list as the whole set (Directus's one-to-many): keep, change, create; the rest is deleted.</summary>
    public void SetOperations(FlowRecord flow, JsonNode? list, FlowActor actor, TimeProvider time)
    {
        if (list is not JsonArray items) throw Invalid("operations", "\"operations\" must be a list of operations or their ids");
        var kept = new HashSet<Guid>();
        for (var i = 0; i < items.Count; i++)
        {
            var prefix = $"operations[{i}].";
            var item = items[i];
            if (item is JsonValue && Id(new JsonObject { ["id"] = item.DeepClone() }, "id", prefix) is { } keep)
            {
                kept.Add(Operation(keep).Flow == flow.Id ? keep : throw Invalid(prefix + "id", "That operation belongs to another flow"));
                continue;
            }
            if (item is not JsonObject data) throw Invalid(prefix.TrimEnd('.'), $"\"{prefix.TrimEnd('.')}\" must be an operation object or an id");
            if (Id(data, "id", prefix) is { } id && _operations.FirstOrDefault(o => o.Id == id) is { } existing)
            {
                if (existing.Flow != flow.Id) throw Invalid(prefix + "id", "That operation belongs to another flow");
                var fields = (JsonObject)data.DeepClone();
                fields.Remove("id");
                fields.Remove("flow");
                FlowStore.PositionsTogether(fields, prefix);
                ApplyOperation(existing, fields, creating: false, prefix);
                _names[id] = prefix;
                kept.Add(id);
                continue;
            }
            kept.Add(NewOperation(flow, data, prefix, actor, time).Id);
        }
        foreach (var gone in _operations.Where(o => o.Flow == flow.Id && !kept.Contains(o.Id)).ToList()) RemoveOperation(gone);
    }

    /// <summary>Deletes an operation; links to it are cleared (as the database's <c>on delete set null</c>) and the flow is laid out again.</summary>
    public void RemoveOperation(OperationRecord operation)
    {
        _operations.Remove(operation);
        foreach (var other in _operations)
        {
            if (other.Resolve == operation.Id) other.Resolve = null;
            if (other.Reject == operation.Id) other.Reject = null;
        }
        if (_flows.TryGetValue(operation.Flow, out var flow) && flow.Operation == operation.Id) flow.Operation = null;
        _relayout.Add(operation.Flow);
    }

    /// <summary>Moves an unlinked operation to <paramref name="target"/>; a linked one stays, 400 naming <c>flow</c>.</summary>
    public void Move(OperationRecord operation, FlowRecord target)
    {
        var source = Flow(operation.Flow);
        var linked = operation.Resolve is not null || operation.Reject is not null || source.Operation == operation.Id
            || _operations.Any(o => o.Resolve == operation.Id || o.Reject == operation.Id);
        if (linked)
            throw Invalid("flow", $"\"{operation.Key}\" is linked to other operations of its flow: unlink it before moving it to another flow");
        operation.Flow = target.Id;
        _relayout.Add(source.Id);
        _relayout.Add(target.Id);
    }

    public void Check()
    {
        foreach (var flow in _flows.Values)
        {
            FlowValidation.Trigger(flow);
            var operations = _operations.Where(o => o.Flow == flow.Id).ToList();
            foreach (var operation in operations) FlowValidation.Operation(operation, Name(operation));
            FlowValidation.Graph(flow, operations, Name);
            if (_relayout.Contains(flow.Id)) FlowLayout.Apply(flow.Operation, operations);
        }
    }

    private string Name(OperationRecord operation) => _names.TryGetValue(operation.Id, out var prefix) ? prefix : "";

    public async Task WriteAsync(NpgsqlTransaction transaction, FlowActor actor, CancellationToken ct)
    {
        var batch = new NpgsqlBatch(transaction.Connection, transaction);
        foreach (var gone in _before.Keys.Where(id => !_flows.ContainsKey(id)))
        {
            Add(batch, "delete from directus_flows where id = $1", Uuid(gone));
            Activity(batch, actor, "delete", FlowTables.Flows, gone, null);
        }
        foreach (var gone in _operationsBefore.Keys.Where(id => _operations.All(o => o.Id != id)))
        {
            Add(batch, "delete from directus_operations where id = $1", Uuid(gone));
            Activity(batch, actor, "delete", FlowTables.Operations, gone, null);
        }
        foreach (var flow in _flows.Values)
        {
            var before = _before.GetValueOrDefault(flow.Id);
            if (before is not null && JsonNode.DeepEquals(before.Json([]), flow.Json([]))) continue;
            Add(batch, """
                insert into directus_flows (id, name, icon, color, description, status, trigger, accountability, options, operation, date_created, user_created)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
                on conflict (id) do update set name = excluded.name, icon = excluded.icon, color = excluded.color, description = excluded.description,
                  status = excluded.status, trigger = excluded.trigger, accountability = excluded.accountability, options = excluded.options,
                  operation = excluded.operation
                """, Uuid(flow.Id), Text(flow.Name), Text(flow.Icon), Text(flow.Color), Text(flow.Description), Text(flow.Status), Text(flow.Trigger),
                Text(flow.Accountability), Text(flow.Options.ToJsonString()), Uuid(flow.Operation), new NpgsqlParameter { Value = flow.DateCreated },
                Uuid(flow.UserCreated));
            Activity(batch, actor, before is null ? "create" : "update", FlowTables.Flows, flow.Id, flow.Json(_operations));
        }
        foreach (var operation in _operations)
        {
            var before = _operationsBefore.GetValueOrDefault(operation.Id);
            if (before is not null && JsonNode.DeepEquals(before.Json(), operation.Json())) continue;
            Add(batch, """
                insert into directus_operations (id, name, key, type, position_x, position_y, options, resolve, reject, flow, date_created, user_created)
                values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12)
                on conflict (id) do update set name = excluded.name, key = excluded.key, type = excluded.type, position_x = excluded.position_x,
                  position_y = excluded.position_y, options = excluded.options, resolve = excluded.resolve, reject = excluded.reject, flow = excluded.flow
                """, Uuid(operation.Id), Text(operation.Name), Text(operation.Key), Text(operation.Type),
                new NpgsqlParameter { Value = operation.PositionX ?? FlowLayout.OriginX }, new NpgsqlParameter { Value = operation.PositionY ?? FlowLayout.OriginY },
                Text(operation.Options.ToJsonString()), Uuid(operation.Resolve), Uuid(operation.Reject), Uuid(operation.Flow),
                new NpgsqlParameter { Value = operation.DateCreated }, Uuid(operation.UserCreated));
            Activity(batch, actor, before is null ? "create" : "update", FlowTables.Operations, operation.Id, operation.Json());
        }
        if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(ct);
        await batch.DisposeAsync();
    }

    /// <summary>The change's activity row and, for a create or an update, the revision holding the record after it.</summary>
    public static void Activity(NpgsqlBatch batch, FlowActor actor, string action, string collection, Guid item, JsonObject? data) =>
        Activity(batch, actor, action, collection, item.ToString(), data);

    public static void Activity(NpgsqlBatch batch, FlowActor actor, string action, string collection, string item, JsonObject? data)
    {
        var sql = data is null
            ? "insert into content_activity (action, \"user\", ip, user_agent, collection, item, origin) values ($1, $2, $3, $4, $5, $6, $7)"
            : "with a as (insert into content_activity (action, \"user\", ip, user_agent, collection, item, origin) values ($1, $2, $3, $4, $5, $6, $7) returning id) " +
              "insert into content_revisions (activity, collection, item, data) select a.id, $5, $6, $8::jsonb from a";
        Add(batch, sql, [Text(action), Uuid(actor.User), Text(actor.Ip), Text(actor.UserAgent), Text(collection), Text(item), Text(actor.Origin),
            .. data is null ? Array.Empty<NpgsqlParameter>() : [Text(data.ToJsonString())]]);
    }

    private static void Add(NpgsqlBatch batch, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        batch.BatchCommands.Add(command);
    }

    private static NpgsqlParameter Uuid(Guid? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid };

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
