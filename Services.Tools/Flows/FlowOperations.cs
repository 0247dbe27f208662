using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Query;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// <c>condition</c>: the <c>filter</c> judged on the data chain as a permission's validation is judged
/// (<see cref="PayloadValidation.Judge"/>, every rule applies, nested objects descended). Holds: resolve with no data;
/// fails: reject with the validation errors, as Directus.
/// </summary>
public sealed class ConditionOperation : IFlowOperation
{
    public string Type => "condition";

    public Task<JsonNode?> RunAsync(JsonObject options, FlowContext context)
    {
        var filter = FilterParser.Parse(options["filter"], "options.filter");
        var failure = PayloadValidation.Judge(filter, context.Chain, context.Runner.Reader.Context(context.Caller?.UserId, context.Caller?.RoleId, []));
        if (failure is null) return Task.FromResult<JsonNode?>(null);
        throw new FlowOperationException(new JsonArray(FlowRunner.ErrorData(failure)), failure.Message);
    }
}

/// <summary>The item operations' shared reading of <c>collection</c>, <c>key</c>, <c>payload</c> and <c>query</c> (Directus's option names).</summary>
public abstract class ItemOperation(ItemsService items) : IFlowOperation
{
    public abstract string Type { get; }

    protected ItemsService Items => items;

    public async Task<JsonNode?> RunAsync(JsonObject options, FlowContext context) =>
        await RunAsync(options["collection"]?.GetValue<string>() ?? throw new FlowOperationException(null, "\"collection\" is required"),
            options, await context.WriterAsync(options), context.Aborted);

    protected abstract Task<JsonNode?> RunAsync(string collection, JsonObject options, WriteCaller caller, CancellationToken ct);

    /// <summary>The keys <c>key</c> names (one or a list), or <c>null</c> when it names none.</summary>
    protected static List<JsonNode>? Keys(JsonObject options) => Json(options["key"]) switch
    {
        null or JsonArray { Count: 0 } => null,
        JsonArray list => ItemsService.Keys(list),
        var one => [one.DeepClone()],
    };

    protected static ItemQuery Query(JsonObject options) =>
        Json(options["query"]) is JsonObject query ? QueryParser.Parse((JsonObject)query.DeepClone()) : ItemQuery.Default;

    /// <summary>An option given as JSON text (a template written into a string) is read as JSON.</summary>
    protected static JsonNode? Json(JsonNode? value)
    {
        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String) return value;
        var text = v.GetValue<string>().Trim();
        if (!(text.StartsWith('{') || text.StartsWith('['))) return value;
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return value;
        }
    }

    /// <summary>One key as a value, several as a list, as Directus's item operations answer.</summary>
    protected static JsonNode? Answer(IReadOnlyList<JsonNode> keys) =>
        keys.Count == 1 ? keys[0].DeepClone() : new JsonArray(keys.Select(k => k.DeepClone()).ToArray());
}

public sealed class ItemCreateOperation(ItemsService items) : ItemOperation(items)
{
    public override string Type => "item-create";

    protected override async Task<JsonNode?> RunAsync(string collection, JsonObject options, WriteCaller caller, CancellationToken ct)
    {
        var payload = Json(options["payload"]);
        if (payload is null) return null;
        var list = payload is JsonArray many ? many.Select(ItemsService.Item).ToList() : [ItemsService.Item(payload)];
        return Answer(await Items.CreateAsync(collection, list, caller, ct));
    }
}

public sealed class ItemReadOperation(ItemsService items) : ItemOperation(items)
{
    public override string Type => "item-read";

    protected override async Task<JsonNode?> RunAsync(string collection, JsonObject options, WriteCaller caller, CancellationToken ct)
    {
        var keys = Keys(options);
        if (keys is null) return (await Items.ReadAsync(collection, Query(options), caller.Permissions, caller.Context, ct)).Items;
        var read = await Items.ReadManyAsync(collection, keys, Query(options), caller.Permissions, caller.Context, ct);
        return keys.Count == 1 ? read.FirstOrDefault()?.DeepClone() ?? throw DirectusException.Forbidden() : read;
    }
}

public sealed class ItemUpdateOperation(ItemsService items) : ItemOperation(items)
{
    public override string Type => "item-update";

    protected override async Task<JsonNode?> RunAsync(string collection, JsonObject options, WriteCaller caller, CancellationToken ct)
    {
        var payload = Json(options["payload"]);
        if (payload is null) return null;
        if (payload is JsonArray batch) return Answer(await Items.UpdateBatchAsync(collection, batch, caller, ct));
        var keys = Keys(options) ?? (options["query"] is not null
            ? await Items.TargetsAsync(collection, new JsonObject { ["query"] = Json(options["query"])?.DeepClone() }, caller, ct)
            : throw new FlowOperationException(null, "Name the items to update with \"key\" or \"query\""));
        return Answer(await Items.UpdateManyAsync(collection, keys, ItemsService.Item(payload), caller, ct));
    }
}

public sealed class ItemDeleteOperation(ItemsService items) : ItemOperation(items)
{
    public override string Type => "item-delete";

    protected override async Task<JsonNode?> RunAsync(string collection, JsonObject options, WriteCaller caller, CancellationToken ct)
    {
        var keys = Keys(options) ?? (options["query"] is not null
            ? (await Items.TargetsAsync(collection, new JsonObject { ["query"] = Json(options["query"])?.DeepClone() }, caller, ct)).ToList()
            : throw new FlowOperationException(null, "Name the items to delete with \"key\" or \"query\""));
        return keys.Count == 0 ? new JsonArray() : Answer(await Items.DeleteAsync(collection, keys, caller, ct));
    }
}

/// <summary><c>log</c>: the rendered <c>message</c> into the service's log (and so into the run record's step options).</summary>
public sealed class LogOperation : IFlowOperation
{
    public string Type => "log";

    public Task<JsonNode?> RunAsync(JsonObject options, FlowContext context)
    {
        var message = options["message"] switch
        {
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            var other => other?.ToJsonString() ?? "",
        };
        context.Runner.Log.LogInformation("Flow {Flow} logs: {Message}", context.Flow.Id, message);
        return Task.FromResult<JsonNode?>(null);
    }
}

/// <summary><c>transform</c>: its <c>json</c> with every reference rendered; JSON text is parsed.</summary>
public sealed class TransformOperation : IFlowOperation
{
    public string Type => "transform";

    public Task<JsonNode?> RunAsync(JsonObject options, FlowContext context)
    {
        var json = options["json"];
        if (json is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            try
            {
                json = JsonNode.Parse(v.GetValue<string>());
            }
            catch (JsonException e)
            {
                throw new FlowOperationException(null, $"\"json\" is not JSON: {e.Message}");
            }
        return Task.FromResult(json?.DeepClone());
    }
}

/// <summary><c>throw-error</c>: fails with its <c>code</c>, <c>status</c> and <c>message</c>, so the <c>reject</c> path runs.</summary>
public sealed class ThrowErrorOperation : IFlowOperation
{
    public string Type => "throw-error";

    public Task<JsonNode?> RunAsync(JsonObject options, FlowContext context)
    {
        var message = options["message"]?.ToString() ?? "An error was thrown by the flow";
        throw new FlowOperationException(new JsonObject
        {
            ["code"] = options["code"]?.ToString() ?? "FLOW_ERROR",
            ["status"] = options["status"] is JsonValue s && int.TryParse(s.ToString(), out var status) ? status : 500,
            ["message"] = message,
        }, message);
    }
}

/// <summary><c>sleep</c>: waits <c>milliseconds</c> (at most a minute: a run holds its trigger's request).</summary>
public sealed class SleepOperation : IFlowOperation
{
    public const int MaxMilliseconds = 60_000;

    public string Type => "sleep";

    public async Task<JsonNode?> RunAsync(JsonObject options, FlowContext context)
    {
        if (!double.TryParse(options["milliseconds"]?.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var ms) || ms < 0)
            throw new FlowOperationException(null, "\"milliseconds\" must be a number of milliseconds");
        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(ms, MaxMilliseconds)), context.Aborted);
        return null;
    }
}

/// <summary>
/// <c>trigger</c>: runs another flow whose trigger is <c>operation</c> (active) with <c>payload</c> as its
/// <c>$trigger</c>, as the same user, and answers its result; a list payload runs it once per item (in order, or all
/// at once for <c>parallel</c>) and answers the list of results.
/// </summary>
public sealed class TriggerOperation : IFlowOperation
{
    public string Type => "trigger";

    public async Task<JsonNode?> RunAsync(JsonObject options, FlowContext context)
    {
        var id = Guid.TryParse(options["flow"]?.ToString(), out var flowId) ? flowId : throw new FlowOperationException(null, "\"flow\" must be a flow's id");
        var flow = await context.Runner.Store.FlowAsync(id, context.Aborted);
        if (flow is not { Trigger: "operation", Status: "active" })
            throw new FlowOperationException(null, $"No active flow with an \"operation\" trigger has the id \"{id}\"");
        async Task<JsonNode?> Run(JsonNode? payload) =>
            (await context.Runner.RunAsync(flow, payload, context.Caller, context.Actor, context.Aborted, context.Depth + 1)).Result;
        if (options["payload"] is not JsonArray items) return await Run(options["payload"]);
        var results = options["iterationMode"]?.ToString() == "parallel"
            ? await Task.WhenAll(items.Select(Run))
            : await SerialAsync(items, Run);
        return new JsonArray(results.ToArray());
    }

    private static async Task<JsonNode?[]> SerialAsync(JsonArray items, Func<JsonNode?, Task<JsonNode?>> run)
    {
        var results = new List<JsonNode?>();
        foreach (var item in items) results.Add(await run(item));
        return [.. results];
    }
}

/// <summary>
/// <c>request</c>: an outbound HTTP request (<c>method</c>, <c>url</c>, <c>headers</c> as <c>[{header, value}]</c>,
/// <c>body</c>) through the file import's client, so the same address rules hold (public addresses only unless
/// configured; a GET's redirects checked hop by hop). Answers <c>{status, statusText, headers, data}</c> (JSON parsed);
/// a non-2xx answer is the same object on the <c>reject</c> path, as Directus.
/// </summary>
public sealed class RequestOperation(AiAssistant.Services.Tools.Content.Files.ImportClient client) : IFlowOperation
{
    public const int MaxResponseBytes = 4 * 1024 * 1024;

    public string Type => "request";

    public async Task<JsonNode?> RunAsync(JsonObject options, FlowContext context)
    {
        var method = new HttpMethod(options["method"]?.ToString() ?? "GET");
        var body = options["body"] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            var json => json.ToJsonString(),
        };
        var answer = await client.RequestAsync(method, options["url"]?.ToString() ?? "", request =>
        {
            if (body is not null) request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            foreach (var header in options["headers"] as JsonArray ?? [])
            {
                var (name, value) = (header?["header"]?.ToString() ?? "", header?["value"]?.ToString() ?? "");
                if (!request.Headers.TryAddWithoutValidation(name, value) && request.Content is { } content)
                {
                    content.Headers.Remove(name);
                    content.Headers.TryAddWithoutValidation(name, value);
                }
            }
        }, MaxResponseBytes, context.Aborted);
        JsonNode? data = answer.Body;
        if (answer.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true && answer.Body.Length > 0)
            try
            {
                data = JsonNode.Parse(answer.Body);
            }
            catch (JsonException)
            {
                // not JSON after all: the text stays
            }
        var result = new JsonObject
        {
            ["status"] = answer.Status, ["statusText"] = answer.Reason,
            ["headers"] = new JsonObject(answer.Headers.DistinctBy(h => h.Key).Select(h => KeyValuePair.Create(h.Key, (JsonNode?)JsonValue.Create(h.Value)))),
            ["data"] = data,
        };
        return answer.Status is >= 200 and < 300 ? result : throw new FlowOperationException(result, $"The request answered {answer.Status}");
    }
}
