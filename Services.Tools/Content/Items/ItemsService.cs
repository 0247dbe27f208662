using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// The items of a collection as Directus's <c>ItemsService</c> offers them — read by query or by keys, create, update
/// as a batch, by keys or by query, upsert a singleton, delete, read back — under a caller's permissions. The REST
/// handlers (<see cref="ItemsApi"/>, <see cref="ItemsWriteApi"/>, <c>/files</c>, <c>/folders</c>, <c>/assets</c>) and the
/// assistant's <c>items</c>, <c>files</c> and <c>folders</c> tools are thin shapes over it. Every write is one transaction.
/// </summary>
public sealed class ItemsService(ItemsReader reader, ItemsWriter writer, SchemaCache schemaCache)
{
    public Task<ItemsPage> ReadAsync(string collection, ItemQuery query, ICollectionAccess access, QueryContext context, CancellationToken ct) =>
        reader.ReadAsync(collection, query, access, context, ct);

    /// <summary>The items with <paramref name="keys"/> that <paramref name="query"/> (its filter too) admits, every one unless it sets a limit.</summary>
    public async Task<JsonArray> ReadManyAsync(string collection, IReadOnlyList<JsonNode> keys, ItemQuery query, ICollectionAccess access,
        QueryContext context, CancellationToken ct)
    {
        var pk = (await CollectionAsync(collection, ct)).PrimaryKey ?? throw QueryErrors.ForbiddenCollection(collection);
        if (keys.Count == 0) return [];
        var byKeys = new FieldCondition(pk, FilterOperator.In, new JsonArray(keys.Select(k => k.DeepClone()).ToArray()));
        var page = await reader.ReadAsync(collection, query with
        {
            Filter = query.Filter is { } given ? new AndFilter([given, byKeys]) : byKeys,
            Limit = query.Limit ?? -1,
        }, access, context, ct);
        return page.Items;
    }

    /// <summary>One item by key; a missing item is 403, as one the caller may not see (no existence leak).</summary>
    public async Task<JsonNode> ReadOneAsync(string collection, JsonNode key, ItemQuery query, ICollectionAccess access, QueryContext context, CancellationToken ct) =>
        (await ReadManyAsync(collection, [key], query with { Limit = 1, Offset = null, Page = null }, access, context, ct)).FirstOrDefault()?.DeepClone()
        ?? throw DirectusException.Forbidden();

    /// <summary>
    /// The items just written, read back under the caller's read grant with <paramref name="query"/>'s shape (fields,
    /// deep, alias, sort — not its filter, search, paging or aggregates: an update by query may have moved the items out
    /// of its own filter); <c>null</c> when the caller may write but not read them, as Directus answers 204.
    /// </summary>
    public async Task<JsonArray?> ReadBackAsync(string collection, IReadOnlyList<JsonNode> keys, ItemQuery query, WriteCaller caller, CancellationToken ct)
    {
        try
        {
            var shape = query with { Filter = null, Search = null, Limit = -1, Offset = null, Page = null, Aggregate = [], GroupBy = [], Meta = MetaKinds.None };
            return await ReadManyAsync(collection, keys, shape, caller.Permissions, caller.Context, ct);
        }
        catch (DirectusException e) when (e.Code == ErrorCodes.Forbidden)
        {
            return null;
        }
    }

    public Task<IReadOnlyList<JsonNode>> CreateAsync(string collection, IReadOnlyList<JsonObject> items, WriteCaller caller, CancellationToken ct) =>
        writer.WriteAsync(caller, async write =>
        {
            var created = new List<JsonNode>();
            foreach (var item in items) created.Add(await write.CreateAsync(collection, item));
            return created;
        }, ct);

    /// <summary>A batch: every object names its own item by its primary key.</summary>
    public async Task<IReadOnlyList<JsonNode>> UpdateBatchAsync(string collection, IEnumerable<JsonNode?> batch, WriteCaller caller, CancellationToken ct)
    {
        var pk = (await CollectionAsync(collection, ct)).PrimaryKey ?? throw QueryErrors.ForbiddenCollection(collection);
        var items = batch.Select(Item).Select(item => (item[pk]?.DeepClone()
            ?? throw DirectusException.InvalidPayload($"Every item of a batch update needs its primary key \"{pk}\"", pk), item)).ToList();
        return await writer.WriteAsync(caller, write => write.UpdateManyAsync(collection, items), ct);
    }

    /// <summary>The same <paramref name="data"/> written to every item of <paramref name="keys"/>.</summary>
    public Task<IReadOnlyList<JsonNode>> UpdateManyAsync(string collection, IReadOnlyList<JsonNode> keys, JsonObject data, WriteCaller caller, CancellationToken ct) =>
        writer.WriteAsync(caller, write => write.UpdateManyAsync(collection, keys.Select(key => (key, data)).ToList()), ct);

    /// <summary>The items a <c>{"keys": […]}</c> or <c>{"query": {…}}</c> request names (a query selects among those the caller may read).</summary>
    public async Task<IReadOnlyList<JsonNode>> TargetsAsync(string collection, JsonObject request, WriteCaller caller, CancellationToken ct) =>
        request["keys"] switch
        {
            JsonArray keys => Keys(keys),
            null when request["query"] is JsonObject query => await writer.KeysAsync(collection, QueryParser.Parse((JsonObject)query.DeepClone()), caller, ct),
            _ => throw DirectusException.InvalidPayload("Name the items with \"keys\" (a list of primary keys) or \"query\" (a query object)"),
        };

    /// <summary>A singleton's one row: updated when it exists, created otherwise; answers its key.</summary>
    public Task<IReadOnlyList<JsonNode>> UpsertSingletonAsync(string collection, JsonObject data, WriteCaller caller, CancellationToken ct) =>
        writer.WriteAsync(caller, async write => [await write.UpsertSingletonAsync(collection, data)], ct);

    /// <summary>Deletes every item of <paramref name="keys"/> or none (an unknown key or one outside the grant is 403).</summary>
    public Task<IReadOnlyList<JsonNode>> DeleteAsync(string collection, IReadOnlyList<JsonNode> keys, WriteCaller caller, CancellationToken ct) =>
        writer.WriteAsync(caller, write => write.DeleteAsync(collection, keys), ct);

    /// <summary>The collection in the current schema; an unknown one is the same 403 as a forbidden one.</summary>
    public async Task<CollectionSchema> CollectionAsync(string collection, CancellationToken ct) =>
        (await schemaCache.GetAsync(ct)).Collection(collection) ?? throw QueryErrors.ForbiddenCollection(collection);

    public static JsonObject Item(JsonNode? node) =>
        node as JsonObject ?? throw DirectusException.InvalidPayload("Each item must be a JSON object of field values");

    public static List<JsonNode> Keys(JsonArray keys) =>
        keys.Select(k => k is JsonValue ? k.DeepClone() : throw DirectusException.InvalidPayload("\"keys\" must be a list of primary keys", "keys")).ToList();
}
