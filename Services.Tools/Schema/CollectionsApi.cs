using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Tools.Schema;

/// <summary><c>/collections</c> in Directus's shape (admin only until permissions land).</summary>
public static class CollectionsApi
{
    public static IEndpointRouteBuilder MapCollectionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/collections");
        group.MapGet("", async (HttpContext context, CollectionsStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var list = await store.ListAsync(ct);
            return TypedResults.Json(new { data = list.Select(Shape) });
        }).WithName("ListCollections");
        group.MapPost("", async (HttpContext context, CollectionsStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var body = await JsonBody.ReadObjectAsync(context.Request, ct);
            var name = body["collection"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>() : throw DirectusException.InvalidPayload("\"collection\" is required", "collection");
            var note = body["meta"]?["note"] is JsonValue n && n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : null;
            return TypedResults.Json(new { data = Shape(await store.CreateAsync(name, note, ct)) });
        }).WithName("CreateCollection");
        return app;
    }

    private static object Shape(CollectionInfo c) =>
        new { collection = c.Collection, meta = new { collection = c.Collection, note = c.Note, hidden = c.Hidden, singleton = c.Singleton } };
}
