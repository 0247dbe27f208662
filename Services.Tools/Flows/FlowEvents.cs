using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.Services.Tools.Content.Items;
using MassTransit;
using Npgsql;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// <c>event</c> flows of type <c>action</c>: a write to items of a collection an active one listens to puts one
/// <see cref="ItemsChanged"/> per action and collection into the outbox, in the write's own transaction (so it is
/// never lost, and never sent for a write that rolled back); one replica consumes it from a shared queue
/// (<see cref="ItemsChangedConsumer"/>) and runs each matching flow once per event — a redelivered event finds its
/// row in <c>directus_flow_event_runs</c> and runs nothing. The flow's <c>$trigger</c> is Directus's action meta
/// without the payload: <c>{event: "articles.items.create", collection, keys, key?}</c>; it runs as the writer.
/// </summary>
public sealed class FlowEvents(NpgsqlDataSource dataSource, IServiceProvider services, OutboxSignal outbox, TimeProvider time) : IWriteFollower
{
    private const string Listening = """
        select id from directus_flows where status = 'active' and trigger = 'event' and options->>'type' = 'action'
          and jsonb_exists(coalesce(options->'scope', '[]'), $1) and jsonb_exists(coalesce(options->'collections', '[]'), $2)
        """;

    public async Task<bool> FollowAsync(NpgsqlTransaction transaction, WriteCaller caller, IReadOnlyList<(string Action, string Collection, JsonNode Key)> written,
        CancellationToken ct)
    {
        var queued = false;
        if (!caller.EmitEvents) return false;
        foreach (var group in written.GroupBy(w => (w.Action, w.Collection)))
        {
            await using (var cmd = new NpgsqlCommand(Listening + " limit 1", transaction.Connection, transaction))
            {
                cmd.Parameters.AddWithValue($"items.{group.Key.Action}");
                cmd.Parameters.AddWithValue(group.Key.Collection);
                if (await cmd.ExecuteScalarAsync(ct) is null) continue;
            }
            var user = caller.Context.UserId;
            var admin = caller.Permissions.IsAdmin;
            await OutboxWriter.AddAsync(transaction.Connection!, transaction, new ItemsChanged(Guid.CreateVersion7(), group.Key.Action, group.Key.Collection,
                group.Select(w => w.Key.ToJsonString()).ToList(), user, caller.Context.RoleId, admin, App: true, time.GetUtcNow()), ct);
            queued = true;
        }
        return queued;
    }

    public void Committed() => outbox.Notify();

    /// <summary>Runs every active flow listening to <paramref name="changed"/> that has not run for this event yet; answers how many ran.</summary>
    public async Task<int> RunAsync(ItemsChanged changed, CancellationToken ct)
    {
        var keys = new JsonArray(changed.Keys.Select(k => JsonNode.Parse(k)).ToArray());
        var trigger = new JsonObject { ["event"] = $"{changed.Collection}.items.{changed.Action}", ["collection"] = changed.Collection, ["keys"] = keys };
        if (changed.Action == "create" && keys.Count == 1) trigger["key"] = keys[0]?.DeepClone();
        var caller = changed.UserId is { } user ? new CallerIdentity(user, changed.RoleId, changed.Admin, changed.App) : null;
        // resolved here, not injected: the runner's item operations write through ItemsWriter, which follows writes with this
        var runner = services.GetRequiredService<FlowRunner>();
        var flows = await ClaimAsync(changed, ct);
        foreach (var flow in flows)
            await runner.RunAsync(flow, trigger, caller, new FlowActor(Guid.TryParse(changed.UserId, out var u) ? u : null, null, "flow-event", null), ct);
        return flows.Count;
    }

    /// <summary>
    /// The listening flows that had not run for this event, claimed in one statement: the first to claim an event for a
    /// flow runs it; a redelivery or another replica finds the row and gets nothing.
    /// </summary>
    private async Task<List<FlowRecord>> ClaimAsync(ItemsChanged changed, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"""
            with c as (insert into directus_flow_event_runs (event, flow) select $3, id from ({Listening}) l on conflict do nothing returning flow)
            select {FlowStore.FlowColumns} from directus_flows f join c on c.flow = f.id order by f.date_created, f.id
            """);
        cmd.Parameters.AddWithValue($"items.{changed.Action}");
        cmd.Parameters.AddWithValue(changed.Collection);
        cmd.Parameters.AddWithValue(changed.EventId);
        return await FlowStore.ReadFlowsAsync(cmd, ct);
    }
}

/// <summary>The one queue every replica reads event flows' events from, so each event reaches one replica.</summary>
public static class FlowEventsQueue
{
    public const string Name = "tools-flow-events";

    /// <summary>Runs at once on each replica: a run mostly waits on the database, so more than the default few keep it busy.</summary>
    public const int ConcurrentRuns = 32;

    public static void ReceiveFlowEvents(this IRabbitMqBusFactoryConfigurator cfg, IBusRegistrationContext context, string queue = Name) =>
        cfg.ReceiveEndpoint(queue, e =>
        {
            e.PrefetchCount = ConcurrentRuns;
            e.ConcurrentMessageLimit = ConcurrentRuns;
            e.ConfigureConsumer<ItemsChangedConsumer>(context);
        });
}

/// <summary>Runs the event flows of a committed write, on whichever replica takes it from the shared queue.</summary>
public sealed class ItemsChangedConsumer(FlowEvents events) : IConsumer<ItemsChanged>
{
    public Task Consume(ConsumeContext<ItemsChanged> context) => events.RunAsync(context.Message, context.CancellationToken);
}
