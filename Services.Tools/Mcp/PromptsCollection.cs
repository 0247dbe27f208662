using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Schema;
using Grpc.Core;
using ContentService = AiAssistant.Contracts.Content.Content;
using AiAssistant.Contracts.Content;

namespace AiAssistant.Services.Tools.Mcp;

/// <summary>
/// The prompts collection (<c>mcp_prompts_collection</c>), shared by MCP and the assistant: what it must hold
/// (<see cref="Problems"/>: <c>name</c>, <c>description</c>, <c>system_prompt</c>, <c>messages</c>), and the
/// collection the reference's generator makes (<see cref="Definition"/>): <c>POST /ai/prompts-collection</c> creates
/// it in one schema change; Settings asks <c>Content.ValidatePromptsCollection</c> before it stores a name.
/// </summary>
public static class PromptsCollection
{
    public const string DefaultName = "ai_prompts";

    /// <summary>Each required field and the types that hold it (the reference's validator: string, text, text, json).</summary>
    private static readonly (string Field, string[] Types)[] Required =
    [
        ("name", ["string", "text"]),
        ("description", ["string", "text"]),
        ("system_prompt", ["text", "string"]),
        ("messages", ["json"]),
    ];

    /// <summary>Why <paramref name="collection"/> can't be the prompts collection, or null when it can.</summary>
    public static string? Problems(SchemaSnapshot schema, string collection)
    {
        if (schema.Collection(collection) is not { IsFolder: false, Meta.System: false } table)
            return $"Collection \"{collection}\" does not exist";
        var missing = new List<string>();
        foreach (var (field, types) in Required)
        {
            var f = table.Field(field);
            if (f is null || !types.Contains(f.Type))
                missing.Add(f is null ? $"{field} ({types[0]})" : $"{field} ({types[0]}, not {f.Type})");
        }
        return missing.Count == 0 ? null
            : $"Collection \"{collection}\" is missing the prompt field{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing)}";
    }

    /// <summary>The <c>POST /collections</c> body of the reference's generated collection, named <paramref name="collection"/>.</summary>
    public static JsonObject Definition(string collection) => new()
    {
        ["collection"] = collection,
        ["meta"] = new JsonObject { ["icon"] = "magic_button", ["note"] = "Prompts for the AI assistant and MCP clients" },
        ["schema"] = new JsonObject(),
        ["fields"] = new JsonArray(
            Field("id", "uuid", new() { ["is_primary_key"] = true }, new() { ["special"] = Special("uuid"), ["interface"] = "input", ["readonly"] = true, ["hidden"] = true }),
            Field("sort", "integer", null, new() { ["interface"] = "input", ["hidden"] = true }),
            Field("status", "string", new() { ["default_value"] = "draft", ["is_nullable"] = false }, new()
            {
                ["interface"] = "select-dropdown",
                ["width"] = "half",
                ["options"] = new JsonObject
                {
                    ["choices"] = new JsonArray(Choice("Published", "published"), Choice("Draft", "draft"), Choice("Archived", "archived")),
                },
            }),
            Field("name", "string", new() { ["is_unique"] = true, ["is_nullable"] = false }, new()
            {
                ["interface"] = "input", ["required"] = true, ["width"] = "half", ["options"] = new JsonObject { ["slug"] = true },
                ["note"] = "The prompt's name, as MCP clients list it",
            }),
            Field("description", "text", null, new() { ["interface"] = "input-multiline" }),
            Field("system_prompt", "text", null, new()
            {
                ["interface"] = "input-rich-text-md", ["note"] = "Use {{variable}} or {{ variable: what to give }} for values asked when the prompt is used",
            }),
            Field("messages", "json", null, new()
            {
                ["special"] = Special("cast-json"),
                ["interface"] = "list",
                ["options"] = new JsonObject
                {
                    ["fields"] = new JsonArray(
                        new JsonObject
                        {
                            ["field"] = "role", ["name"] = "Role", ["type"] = "string",
                            ["meta"] = new JsonObject
                            {
                                ["interface"] = "select-dropdown", ["width"] = "half", ["required"] = true,
                                ["options"] = new JsonObject { ["choices"] = new JsonArray(Choice("User", "user"), Choice("Assistant", "assistant")) },
                            },
                        },
                        new JsonObject
                        {
                            ["field"] = "text", ["name"] = "Text", ["type"] = "text",
                            ["meta"] = new JsonObject { ["interface"] = "input-multiline", ["width"] = "full", ["required"] = true },
                        }),
                },
            }),
            Field("date_created", "timestamp", null, Stamp("date-created", "datetime")),
            Field("user_created", "uuid", null, Stamp("user-created", "select-dropdown-m2o")),
            Field("date_updated", "timestamp", null, Stamp("date-updated", "datetime")),
            Field("user_updated", "uuid", null, Stamp("user-updated", "select-dropdown-m2o"))),
    };

    /// <summary><c>POST /ai/prompts-collection</c> (admin only), body <c>{"collection": "ai_prompts"}</c> (the default).</summary>
    public static IEndpointRouteBuilder MapPromptsCollectionApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/ai/prompts-collection", async (HttpContext context, SchemaStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var body = context.Request.ContentLength == 0 ? new JsonObject() : await JsonBody.ReadObjectAsync(context.Request, ct);
            var name = SchemaPayload.Str(body, "collection", "collection") is { Length: > 0 } given ? given : DefaultName;
            var created = await store.CreateCollectionAsync(Definition(name), ct);
            return TypedResults.Json(new JsonObject { ["data"] = SchemaJson.Collection(created) });
        }).WithName("GeneratePromptsCollection");
        return app;
    }

    private static JsonNode Field(string field, string type, JsonObject? schema, JsonObject meta) => new JsonObject
    {
        ["field"] = field,
        ["type"] = type,
        ["schema"] = schema ?? new JsonObject(),
        ["meta"] = meta,
    };

    /// <summary>Who and when a row was made or changed: written by the store, shown read-only.</summary>
    private static JsonObject Stamp(string special, string ui) => new() { ["special"] = Special(special), ["interface"] = ui, ["readonly"] = true, ["hidden"] = true, ["width"] = "half" };

    private static JsonArray Special(string special) => new(special);

    private static JsonObject Choice(string text, string value) => new() { ["text"] = text, ["value"] = value };
}

/// <summary>gRPC <c>Content</c> for Settings: whether a collection can be the prompts collection.</summary>
public sealed class ContentGrpc(SchemaCache schema) : ContentService.ContentBase
{
    public override async Task<ValidatePromptsCollectionReply> ValidatePromptsCollection(ValidatePromptsCollectionRequest request, ServerCallContext context)
    {
        var problems = PromptsCollection.Problems(await schema.GetAsync(context.CancellationToken), request.Collection);
        return new ValidatePromptsCollectionReply { Ok = problems is null, Message = problems ?? "" };
    }
}
