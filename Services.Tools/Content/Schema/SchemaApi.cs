using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Permissions;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// <c>/collections</c>, <c>/fields</c> and <c>/relations</c> in Directus's shapes (<c>{"data": …}</c>). Writes are
/// admin only, as in Directus; a read shows what <see cref="SchemaVisibility"/> leaves of the schema for the caller
/// (everything for an admin; the Public policy's share without a token). An unknown collection, field or relation
/// answers 403 FORBIDDEN, exactly as one the caller may not read.
/// </summary>
public static class SchemaApi
{
    public static IEndpointRouteBuilder MapSchemaApi(this IEndpointRouteBuilder app)
    {
        var collections = app.MapGroup("/collections");
        collections.MapGet("", (HttpContext context, SchemaCache cache, CancellationToken ct) =>
            Read(context, cache, ct, SchemaJson.Collections)).WithName("ListCollections");
        collections.MapGet("/{collection}", (string collection, HttpContext context, SchemaCache cache, CancellationToken ct) =>
            Read(context, cache, ct, s => SchemaJson.Collection(Collection(s, collection)))).WithName("ReadCollection");
        collections.MapPost("", (HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, cache, ct, body => store.CreateCollectionAsync(body, ct), (_, c) => SchemaJson.Collection(c))).WithName("CreateCollection");
        collections.MapPatch("/{collection}", (string collection, HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, cache, ct, body => store.UpdateCollectionAsync(collection, body, ct), (_, c) => SchemaJson.Collection(c))).WithName("UpdateCollection");
        collections.MapDelete("/{collection}", async (string collection, HttpContext context, SchemaStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await store.DeleteCollectionAsync(collection, ct);
            return TypedResults.NoContent();
        }).WithName("DeleteCollection");

        var fields = app.MapGroup("/fields");
        fields.MapGet("", (HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
            SchemaJson.Fields(s, s.Collections.Values.SelectMany(c => c.Fields.Values)))).WithName("ListFields");
        fields.MapGet("/{collection}", (string collection, HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
            SchemaJson.Fields(s, Collection(s, collection).Fields.Values))).WithName("ListCollectionFields");
        fields.MapGet("/{collection}/{field}", (string collection, string field, HttpContext context, SchemaCache cache, CancellationToken ct) =>
            Read(context, cache, ct, s => SchemaJson.Field(s, Collection(s, collection).Field(field) ?? throw DirectusException.Forbidden()))).WithName("ReadField");
        fields.MapPost("/{collection}", (string collection, HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, cache, ct, body => store.CreateFieldAsync(collection, body, ct), SchemaJson.Field)).WithName("CreateField");
        fields.MapPatch("/{collection}/{field}", (string collection, string field, HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, cache, ct, body => store.UpdateFieldAsync(collection, field, body, ct), SchemaJson.Field)).WithName("UpdateField");
        fields.MapDelete("/{collection}/{field}", async (string collection, string field, HttpContext context, SchemaStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await store.DeleteFieldAsync(collection, field, ct);
            return TypedResults.NoContent();
        }).WithName("DeleteField");

        var relations = app.MapGroup("/relations");
        relations.MapGet("", (HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
            SchemaJson.Relations(s, s.Relations))).WithName("ListRelations");
        relations.MapGet("/{collection}", (string collection, HttpContext context, SchemaCache cache, CancellationToken ct) => Read(context, cache, ct, s =>
            SchemaJson.Relations(s, Relations(s, collection)))).WithName("ListCollectionRelations");
        relations.MapGet("/{collection}/{field}", (string collection, string field, HttpContext context, SchemaCache cache, CancellationToken ct) =>
            Read(context, cache, ct, s => SchemaJson.Relation(s, s.ManyToOne(collection, field) ?? throw DirectusException.Forbidden()))).WithName("ReadRelation");
        relations.MapPost("", (HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, cache, ct, body => store.CreateRelationAsync(body, ct), SchemaJson.Relation)).WithName("CreateRelation");
        relations.MapPatch("/{collection}/{field}", (string collection, string field, HttpContext context, SchemaStore store, SchemaCache cache, CancellationToken ct) =>
            Write(context, cache, ct, body => store.UpdateRelationAsync(collection, field, body, ct), SchemaJson.Relation)).WithName("UpdateRelation");
        relations.MapDelete("/{collection}/{field}", async (string collection, string field, HttpContext context, SchemaStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await store.DeleteRelationAsync(collection, field, ct);
            return TypedResults.NoContent();
        }).WithName("DeleteRelation");
        return app;
    }

    /// <summary>The relations whose foreign key is a field of <paramref name="collection"/>; an unknown collection is 403.</summary>
    public static IEnumerable<RelationSchema> Relations(SchemaSnapshot schema, string collection)
    {
        var table = Collection(schema, collection);
        return schema.Relations.Where(r => r.Collection == table.Collection);
    }

    /// <summary>The collection, or 403 as for one the caller may not see.</summary>
    public static CollectionSchema Collection(SchemaSnapshot schema, string collection) =>
        schema.Collection(collection) ?? throw DirectusException.Forbidden();

    private static async Task<IResult> Read(HttpContext context, SchemaCache cache, CancellationToken ct, Func<SchemaSnapshot, JsonNode> shape)
    {
        var schema = await cache.GetAsync(ct);
        var permissions = await context.RequestServices.GetRequiredService<IPermissionSource>().ForAsync(context.Caller(), ct);
        return Data(shape(permissions.IsAdmin ? schema : SchemaVisibility.For(schema, permissions)));
    }

    /// <summary>Applies the body, then shapes the result with the schema after the change (the store refreshed this replica's cache).</summary>
    private static async Task<IResult> Write<T>(HttpContext context, SchemaCache cache, CancellationToken ct,
        Func<JsonObject, Task<T>> apply, Func<SchemaSnapshot, T, JsonNode> shape)
    {
        context.RequireAdmin();
        var result = await apply(await JsonBody.ReadObjectAsync(context.Request, ct));
        return Data(shape(await cache.GetAsync(ct), result));
    }

    private static IResult Data(JsonNode data) => TypedResults.Json(new JsonObject { ["data"] = data });
}
