using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// <c>/collections</c>, <c>/fields</c> and <c>/relations</c> in Directus's shapes (<c>{"data": …}</c>). Writes are
/// admin only, as in Directus; reads are admin only too until the permission engine filters them. An unknown
/// collection, field or relation answers 403 FORBIDDEN, as one the caller may not read will.
/// </summary>
public static class SchemaApi
{
    public static IEndpointRouteBuilder MapSchemaApi(this IEndpointRouteBuilder app)
    {
        var collections = app.MapGroup("/collections");
        collections.MapGet("", (HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
            new JsonArray(s.Collections.Values.OrderBy(c => c.Meta.Sort ?? int.MaxValue).ThenBy(c => c.Collection, StringComparer.Ordinal)
                .Select(c => (JsonNode)SchemaJson.Collection(c)).ToArray()))).WithName("ListCollections");
        collections.MapGet("/{collection}", (string collection, HttpContext context, SchemaCache cache, CancellationToken ct) =>
            Read(context, cache, ct, s => SchemaJson.Collection(Collection(s, collection)))).WithName("ReadCollection");
        collections.MapPost("", (HttpContext context, SchemaStore store, CancellationToken ct) =>
            Write(context, ct, async body => SchemaJson.Collection(await store.CreateCollectionAsync(body, ct)))).WithName("CreateCollection");
        collections.MapPatch("/{collection}", (string collection, HttpContext context, SchemaStore store, CancellationToken ct) =>
            Write(context, ct, async body => SchemaJson.Collection(await store.UpdateCollectionAsync(collection, body, ct)))).WithName("UpdateCollection");
        collections.MapDelete("/{collection}", async (string collection, HttpContext context, SchemaStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await store.DeleteCollectionAsync(collection, ct);
            return TypedResults.NoContent();
        }).WithName("DeleteCollection");

        var fields = app.MapGroup("/fields");
        fields.MapGet("", (HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
            new JsonArray(s.Collections.Values.SelectMany(c => c.Fields.Values).Select(f => (JsonNode)SchemaJson.Field(s, f)).ToArray()))).WithName("ListFields");
        fields.MapGet("/{collection}", (string collection, HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
            new JsonArray(Collection(s, collection).Fields.Values.Select(f => (JsonNode)SchemaJson.Field(s, f)).ToArray()))).WithName("ListCollectionFields");
        fields.MapGet("/{collection}/{field}", (string collection, string field, HttpContext context, SchemaCache cache, CancellationToken ct) =>
            Read(context, cache, ct, s => SchemaJson.Field(s, Collection(s, collection).Field(field) ?? throw DirectusException.Forbidden()))).WithName("ReadField");
        fields.MapPost("/{collection}", (string collection, HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, ct, async body =>
            {
                var field = await store.CreateFieldAsync(collection, body, ct);
                return SchemaJson.Field(await cache.GetAsync(ct), field);
            })).WithName("CreateField");
        fields.MapPatch("/{collection}/{field}", (string collection, string field, HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, ct, async body =>
            {
                var updated = await store.UpdateFieldAsync(collection, field, body, ct);
                return SchemaJson.Field(await cache.GetAsync(ct), updated);
            })).WithName("UpdateField");
        fields.MapDelete("/{collection}/{field}", async (string collection, string field, HttpContext context, SchemaStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await store.DeleteFieldAsync(collection, field, ct);
            return TypedResults.NoContent();
        }).WithName("DeleteField");

        var relations = app.MapGroup("/relations");
        relations.MapGet("", (HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
            new JsonArray(s.Relations.Select(r => (JsonNode)SchemaJson.Relation(s, r)).ToArray()))).WithName("ListRelations");
        relations.MapGet("/{collection}", (string collection, HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
        {
            Collection(s, collection);
            return new JsonArray(s.Relations.Where(r => r.Collection == collection).Select(r => (JsonNode)SchemaJson.Relation(s, r)).ToArray());
        })).WithName("ListCollectionRelations");
        relations.MapGet("/{collection}/{field}", (string collection, string field, HttpContext context, SchemaCache cache, CancellationToken ct) =>
            Read(context, cache, ct, s => SchemaJson.Relation(s, s.ManyToOne(collection, field) ?? throw DirectusException.Forbidden()))).WithName("ReadRelation");
        relations.MapPost("", (HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, ct, async body =>
            {
                var relation = await store.CreateRelationAsync(body, ct);
                return SchemaJson.Relation(await cache.GetAsync(ct), relation);
            })).WithName("CreateRelation");
        relations.MapPatch("/{collection}/{field}", (string collection, string field, HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, ct, async body =>
            {
                var relation = await store.UpdateRelationAsync(collection, field, body, ct);
                return SchemaJson.Relation(await cache.GetAsync(ct), relation);
            })).WithName("UpdateRelation");
        relations.MapDelete("/{collection}/{field}", async (string collection, string field, HttpContext context, SchemaStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await store.DeleteRelationAsync(collection, field, ct);
            return TypedResults.NoContent();
        }).WithName("DeleteRelation");
        return app;
    }

    private static CollectionSchema Collection(SchemaSnapshot schema, string collection) =>
        schema.Collection(collection) ?? throw DirectusException.Forbidden();

    private static async Task<IResult> Read(HttpContext context, SchemaCache cache, CancellationToken ct, Func<SchemaSnapshot, JsonNode> shape)
    {
        // The permission engine plugs in here: filter collections and fields by the caller's read permissions.
        context.RequireAdmin();
        return Data(shape(await cache.GetAsync(ct)));
    }

    private static async Task<IResult> Write(HttpContext context, CancellationToken ct, Func<JsonObject, Task<JsonNode>> apply)
    {
        context.RequireAdmin();
        return Data(await apply(await JsonBody.ReadObjectAsync(context.Request, ct)));
    }

    private static IResult Data(JsonNode data) => TypedResults.Json(new JsonObject { ["data"] = data });
}
