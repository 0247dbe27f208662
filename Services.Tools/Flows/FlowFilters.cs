using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using Npgsql;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// <c>event</c> flows of type <c>filter</c>: before an item of a collection one listens to is created, updated or
/// deleted, each such active flow runs (oldest first) inside the write's transaction, as the writer, with
/// <c>$trigger</c> = <c>{event: "articles.items.create", payload, collection, keys?}</c> (a delete's payload is its
/// keys). A flow with a <c>return</c> option answers the payload written instead (an object; Directus's filter
/// handlers' return value); without one the payload stays. A run that ends on a <c>reject</c> path refuses the whole
/// write: nothing is written, the caller gets a 4xx built from the last operation's data (its status when that is a
/// 4xx, else 400; its code and message), and the run's record, written on its own connection, stays. The flow's own
/// item writes join the write's transaction (<see cref="SharedTransaction"/>), so they are undone with it.
/// </summary>
public sealed class FlowFilters(NpgsqlDataSource dataSource, IServiceProvider services) : IWriteFilter
{
    /// <summary>Which flows listen, looked up once per write and collection: a create of 1,000 items asks once, not 1,000 times.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SharedTransaction, System.Collections.Concurrent.ConcurrentDictionary<string, List<Guid>>>
        _listening = new();

    private const string Listening = """
        select id from directus_flows where status = 'active' and trigger = 'event' and options->>'type' = 'filter'
          and jsonb_exists(coalesce(options->'scope', '[]'), $1) and jsonb_exists(coalesce(options->'collections', '[]'), $2)
        order by date_created, id
        """;

    public async Task<JsonNode> FilterAsync(WriteCaller caller, string action, string collection, JsonNode payload, IReadOnlyList<JsonNode>? keys,
        CancellationToken ct)
    {
        var known = SharedTransaction.Joined is { } write ? _listening.GetOrCreateValue(write) : null;
        var key = $"{action} {collection}";
        if (known is null || !known.TryGetValue(key, out var flows))
        {
            flows = await ListeningAsync(SharedTransaction.Joined?.Transaction, action, collection, ct);
            known?.TryAdd(key, flows);
        }
        if (flows.Count == 0) return payload;
        // resolved here, not injected: the runner's item operations write through ItemsWriter, which calls this
        var (store, runner) = (services.GetRequiredService<FlowStore>(), services.GetRequiredService<FlowRunner>());
        var identity = new CallerIdentity(caller.Context.UserId ?? "", caller.Context.RoleId, caller.Permissions.IsAdmin, App: true);
        var who = caller.Context.UserId is null ? null : identity;
        foreach (var id in flows)
        {
            if (await store.FlowAsync(id, ct) is not { } flow) continue;
            var trigger = new JsonObject { ["event"] = $"{collection}.items.{action}", ["payload"] = payload.DeepClone(), ["collection"] = collection };
            if (keys is not null) trigger["keys"] = new JsonArray(keys.Select(k => k.DeepClone()).ToArray());
            var run = await runner.RunAsync(flow, trigger, who, FlowActor.From(caller), ct);
            if (run.Status == "reject") throw Refusal(flow, run.Chain["$last"]);
            if (flow.Options["return"] is not null && action != "delete")
                payload = run.Result as JsonObject ?? throw DirectusException.InvalidPayload(
                    $"The filter flow \"{flow.Name}\" answered no object of field values for the item (its \"return\" is {flow.Options["return"]!.ToJsonString()})");
        }
        return payload;
    }

    /// <summary>On the write's own connection when there is one: a write never waits on the pool for a second connection.</summary>
    private async Task<List<Guid>> ListeningAsync(NpgsqlTransaction? transaction, string action, string collection, CancellationToken ct)
    {
        await using var cmd = transaction is null ? dataSource.CreateCommand(Listening) : new NpgsqlCommand(Listening, transaction.Connection, transaction);
        cmd.Parameters.AddWithValue($"items.{action}");
        cmd.Parameters.AddWithValue(collection);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var flows = new List<Guid>();
        while (await reader.ReadAsync(ct)) flows.Add(reader.GetGuid(0));
        return flows;
    }

    /// <summary>The caller's 4xx from the rejecting operation's data: a thrown error's own status, code and message.</summary>
    public static DirectusException Refusal(FlowRecord flow, JsonNode? last)
    {
        var error = last is JsonArray { Count: > 0 } list ? list[0] : last;
        var status = error?["status"] is JsonValue s && s.TryGetValue<int>(out var given) && given is >= 400 and < 500 ? given : 400;
        var code = error?["code"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : ErrorCodes.FailedValidation;
        var message = error?["message"] is JsonValue m && m.GetValueKind() == JsonValueKind.String
            ? m.GetValue<string>() : $"The flow \"{flow.Name}\" refused the change";
        return new DirectusException(status, code, message, new Dictionary<string, object?> { ["flow"] = flow.Id.ToString() });
    }
}
