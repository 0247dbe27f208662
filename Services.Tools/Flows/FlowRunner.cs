using System.Diagnostics;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using Npgsql;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>How a run went: the last operation's status, what the flow answers (its <c>return</c> option), the data chain.</summary>
public sealed record FlowResult(string Status, JsonNode? Result, JsonObject Chain);

/// <summary>One operation type's code (Directus's operation handlers).</summary>
public interface IFlowOperation
{
    string Type { get; }

    /// <summary>Its data (stored under its key and as <c>$last</c>); throw to take the <c>reject</c> path.</summary>
    Task<JsonNode?> RunAsync(JsonObject options, FlowContext context);

    /// <summary>Whether its data with these options is a credential (a signed token): the run record does not keep it.</summary>
    bool SecretData(JsonObject options) => false;
}

/// <summary>What an operation runs with: the data chain so far and who triggered the run.</summary>
public sealed record FlowContext(FlowRecord Flow, JsonObject Chain, CallerIdentity? Caller, FlowActor Actor, int Depth, FlowRunner Runner, CancellationToken Aborted)
{
    /// <summary>
    /// The permissions an item operation's <c>permissions</c> option names: <c>$trigger</c> (the default) the user who
    /// started the run, <c>$public</c> the Public policy, <c>$full</c> full access.
    /// </summary>
    public async Task<WriteCaller> WriterAsync(JsonObject options)
    {
        var mode = options["permissions"]?.GetValue<string>() ?? "$trigger";
        var engine = Runner.Permissions;
        var granted = mode switch
        {
            "$full" => CallerPermissions.Admin,
            "$public" => await engine.ForAsync(null, Aborted),
            _ => await engine.ForAsync(Caller, Aborted),
        };
        var user = mode == "$trigger" ? Caller : null;
        // a flow's own writes start event flows only when asked (emitEvents), so a flow on a collection cannot feed itself
        var emit = options["emitEvents"] is JsonValue e && e.GetValueKind() == System.Text.Json.JsonValueKind.True;
        return new WriteCaller(granted, Runner.Reader.Context(user?.UserId, user?.RoleId, granted.PolicyIds), Actor.Ip, "flow", Actor.Origin, emit);
    }
}

/// <summary>An operation's failure carrying the data its <c>reject</c> path and the run record see.</summary>
public sealed class FlowOperationException(JsonNode? data, string message) : Exception(message)
{
    public JsonNode? Chained { get; } = data;
}

/// <summary>
/// Runs a flow as Directus's flow manager does: the data chain starts as <c>$trigger</c> (and <c>$last</c>) = the
/// trigger's data, <c>$accountability</c> = who triggered it, <c>$env</c> = the environment variables
/// <see cref="FlowOptions.EnvAllowList"/> names (no other);
/// from the flow's first operation each one's options are rendered from the chain (<see cref="FlowTemplates"/>), it
/// runs, its data is stored under its key and as <c>$last</c>, and its <c>resolve</c> or, when it threw, its
/// <c>reject</c> comes next. A flow whose <c>accountability</c> is not null records the run as an activity row
/// (<c>action = 'run'</c>) on <c>directus_flows</c>; with <c>all</c>, its revision holds the steps (key, status,
/// rendered options, duration), status, duration and the chain, with secrets in headers, tokens, passwords, secrets,
/// <c>$env</c>'s values and secret operation data (<see cref="IFlowOperation.SecretData"/>) redacted.
/// </summary>
public sealed class FlowRunner(FlowStore store, IEnumerable<IFlowOperation> operations, IPermissionSource permissions, ItemsReader reader,
    NpgsqlDataSource dataSource, Microsoft.Extensions.Options.IOptions<FlowOptions> flowOptions, ILogger<FlowRunner> log)
{
    public const int MaxDepth = 10;
    public const string Redacted = "--redacted--";
    private readonly Dictionary<string, IFlowOperation> _operations = operations.ToDictionary(o => o.Type);

    public IPermissionSource Permissions => permissions;
    public ItemsReader Reader => reader;
    public ILogger Log => log;
    public FlowStore Store => store;

    public async Task<FlowResult> RunAsync(FlowRecord flow, JsonNode? trigger, CallerIdentity? caller, FlowActor actor, CancellationToken ct, int depth = 0)
    {
        if (depth > MaxDepth) throw new FlowOperationException(null, $"Flows trigger each other more than {MaxDepth} deep");
        var started = Stopwatch.GetTimestamp();
        var chain = new JsonObject
        {
            ["$trigger"] = trigger?.DeepClone(),
            ["$last"] = trigger?.DeepClone(),
            ["$accountability"] = caller is null ? null : new JsonObject
            {
                ["user"] = caller.UserId, ["role"] = caller.RoleId, ["admin"] = caller.Admin, ["app"] = caller.App,
                ["ip"] = actor.Ip, ["userAgent"] = actor.UserAgent, ["origin"] = actor.Origin,
            },
            ["$env"] = Environment(),
        };
        var byId = (await store.OperationsAsync(flow.Id, ct)).ToDictionary(o => o.Id);
        var context = new FlowContext(flow, chain, caller, actor, depth, this, ct);
        var steps = new JsonArray();
        var secret = new HashSet<string>();
        var status = "unknown";
        for (var next = flow.Operation is { } first ? byId.GetValueOrDefault(first) : null; next is not null;)
        {
            var stepStarted = Stopwatch.GetTimestamp();
            var options = FlowTemplates.Render(next.Options, chain) as JsonObject ?? [];
            JsonNode? data;
            try
            {
                data = _operations.TryGetValue(next.Type, out var operation)
                    ? await operation.RunAsync(options, context)
                    : throw new FlowOperationException(null, $"Operation type \"{next.Type}\" is not available");
                status = "resolve";
                if (operation.SecretData(options)) secret.Add(next.Key);
                else secret.Remove(next.Key);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                data = ErrorData(e);
                status = "reject";
            }
            if (status == "reject") secret.Remove(next.Key);
            chain[next.Key] = data?.DeepClone();
            chain["$last"] = data?.DeepClone();
            if (secret.Contains(next.Key)) secret.Add("$last");
            else secret.Remove("$last");
            steps.Add(new JsonObject
            {
                ["operation"] = next.Id.ToString(), ["key"] = next.Key, ["status"] = status, ["options"] = options,
                ["duration_ms"] = Math.Round(Stopwatch.GetElapsedTime(stepStarted).TotalMilliseconds, 3),
            });
            var successor = status == "resolve" ? next.Resolve : next.Reject;
            next = successor is { } id ? byId.GetValueOrDefault(id) : null;
        }
        var duration = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (flow.Accountability is not null) await RecordAsync(flow, actor, caller, status, duration, steps, Recorded(chain, secret), ct);
        var returns = flow.Trigger == "manual" ? "$last" : flow.Options["return"]?.GetValue<string>() ?? "$last";
        var result = returns == "$all" ? chain.DeepClone() : FlowTemplates.Get(chain, returns)?.DeepClone();
        return new FlowResult(status, result, chain);
    }

    private JsonObject Environment() => new(flowOptions.Value.EnvNames.Distinct()
        .Select(name => KeyValuePair.Create(name, (JsonNode?)JsonValue.Create(System.Environment.GetEnvironmentVariable(name)))));

    /// <summary>The chain as the record keeps it: <c>$env</c>'s values and secret operation data replaced.</summary>
    private static JsonObject Recorded(JsonObject chain, HashSet<string> secret)
    {
        var copy = (JsonObject)chain.DeepClone();
        if (copy["$env"] is JsonObject env)
            foreach (var name in env.Select(p => p.Key).ToList()) env[name] = env[name] is null ? null : Redacted;
        foreach (var key in secret)
            if (copy[key] is not null) copy[key] = Redacted;
        return copy;
    }

    /// <summary>What a failure leaves in the chain: a Directus error's message and code, a thrown operation's own data, else the message.</summary>
    public static JsonNode? ErrorData(Exception e) => e switch
    {
        FlowOperationException f => f.Chained?.DeepClone() ?? new JsonObject { ["message"] = f.Message },
        DirectusException d => new JsonObject
        {
            ["message"] = d.Message, ["code"] = d.Code, ["status"] = d.Status,
            ["extensions"] = System.Text.Json.JsonSerializer.SerializeToNode(d.Extensions ?? new Dictionary<string, object?>()),
        },
        _ => new JsonObject { ["message"] = e.Message },
    };

    private async Task RecordAsync(FlowRecord flow, FlowActor actor, CallerIdentity? caller, string status, double duration, JsonArray steps, JsonObject chain,
        CancellationToken ct)
    {
        var revision = flow.Accountability == "all" ? new JsonObject
        {
            ["trigger"] = flow.Trigger, ["status"] = status, ["duration_ms"] = Math.Round(duration, 3),
            ["steps"] = Redact(steps), ["data"] = Redact(chain),
        } : null;
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection);
        FlowState.Activity(batch, actor with { User = Guid.TryParse(caller?.UserId, out var user) ? user : null }, "run", FlowTables.Flows, flow.Id, revision);
        await batch.ExecuteNonQueryAsync(ct);
    }

    private static readonly string[] SecretHeaders = ["authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key", "x-auth-token"];

    /// <summary>
    /// A copy without secrets: request header values that carry credentials, every value of a <c>request</c>
    /// operation's headers, <c>access_token</c> in a query, <c>password</c> in a payload or body, any <c>secret</c> or <c>token</c>.
    /// </summary>
    public static JsonNode? Redact(JsonNode? node, string? parent = null) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key,
            Secret(parent, p.Key) && p.Value is not null ? JsonValue.Create(Redacted) : Redact(p.Value, p.Key)))),
        // a request operation's own headers are configured credentials more often than not: none is kept
        JsonArray a when parent == "headers" => new JsonArray(a.Select(h => h is JsonObject header
            ? new JsonObject { ["header"] = header["header"]?.DeepClone(), ["value"] = Redacted } : Redact(h, null)).ToArray()),
        JsonArray a => new JsonArray(a.Select(i => Redact(i, null)).ToArray()),
        _ => node?.DeepClone(),
    };

    private static bool Secret(string? parent, string key) => key.Equals("secret", StringComparison.OrdinalIgnoreCase) || key.Equals("token", StringComparison.OrdinalIgnoreCase) || parent?.ToLowerInvariant() switch
    {
        "headers" => SecretHeaders.Contains(key.ToLowerInvariant()),
        "query" => key == "access_token",
        "payload" or "body" => key == "password",
        _ => false,
    };
}
