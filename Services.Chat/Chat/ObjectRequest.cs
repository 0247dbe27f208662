using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Providers;

namespace AiAssistant.Services.Chat.Chat;

/// <summary>
/// The body of <c>POST /ai/object</c>, the reference's <c>ObjectRequest</c>: <c>{provider, model, prompt, outputSchema,
/// maxOutputTokens?}</c>. The schema is closed on the way in: every object node gets <c>additionalProperties: false</c>,
/// as the reference's <c>addAdditionalPropertiesToJsonSchema</c> does.
/// </summary>
public sealed record ObjectRequest(string Provider, string Model, string Prompt, JsonElement OutputSchema, int? MaxOutputTokens)
{
    public const int MinOutputTokens = 256;

    /// <summary>Parses and checks the body; every failure is a 400 naming the field.</summary>
    public static ObjectRequest Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw Invalid("The body must be a JSON object", null);
        var provider = RequiredString(body, "provider");
        if (!ProviderTypes.IsValidId(provider))
            throw Invalid($"\"provider\" must be one of {string.Join(", ", ProviderTypes.All.Select(p => $"\"{p}\""))} or \"openai-compatible:<id>\"", "provider");
        var model = RequiredString(body, "model");
        var prompt = RequiredString(body, "prompt");

        if (!body.TryGetProperty("outputSchema", out var schema) || schema.ValueKind != JsonValueKind.Object)
            throw Invalid("\"outputSchema\" is required and must be a JSON Schema object", "outputSchema");
        if (!IsObjectSchema(schema))
            throw Invalid("\"outputSchema\" must be an object schema (\"type\": \"object\")", "outputSchema");
        if (schema.TryGetProperty("$schema", out var meta) && (meta.ValueKind != JsonValueKind.String || meta.GetString() is not ("http://json-schema.org/draft-07/schema#" or "http://json-schema.org/draft-07/schema")))
            throw Invalid("\"outputSchema\": \"$schema\" may only be the draft-07 meta-schema", "outputSchema");

        int? maxOutputTokens = null;
        if (body.TryGetProperty("maxOutputTokens", out var max) && max.ValueKind != JsonValueKind.Null)
            maxOutputTokens = max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out var n) && n >= MinOutputTokens
                ? n : throw Invalid($"\"maxOutputTokens\" must be a whole number of at least {MinOutputTokens}", "maxOutputTokens");

        var closed = Close(JsonNode.Parse(schema.GetRawText())!);
        return new ObjectRequest(provider, model, prompt, JsonSerializer.SerializeToElement(closed), maxOutputTokens);
    }

    /// <summary>An object schema: <c>type: "object"</c>, or no type and <c>properties</c> (then the type is added by <see cref="Close"/>).</summary>
    private static bool IsObjectSchema(JsonElement schema) =>
        schema.TryGetProperty("type", out var type)
            ? type.ValueKind == JsonValueKind.String && type.GetString() == "object"
            : schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object;

    /// <summary>Sets <c>additionalProperties: false</c> on every object node of the schema, nested ones included.</summary>
    public static JsonNode Close(JsonNode schema)
    {
        if (schema is not JsonObject node) return schema;
        var type = node["type"];
        var isObject = type is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == "object"
            || type is JsonArray types && types.Any(t => t is JsonValue tv && tv.GetValueKind() == JsonValueKind.String && tv.GetValue<string>() == "object")
            || (type is null && node["properties"] is JsonObject);
        if (type is null && node["properties"] is JsonObject) node["type"] = "object";
        foreach (var key in new[] { "properties", "patternProperties", "$defs", "definitions" })
            if (node[key] is JsonObject children)
                foreach (var (_, child) in children)
                    if (child is not null) Close(child);
        foreach (var key in new[] { "items", "not", "if", "then", "else", "contains" })
            if (node[key] is JsonObject child) Close(child);
        foreach (var key in new[] { "items", "prefixItems", "anyOf", "oneOf", "allOf" })
            if (node[key] is JsonArray list)
                foreach (var child in list)
                    if (child is not null) Close(child);
        if (isObject) node["additionalProperties"] = false;
        return node;
    }

    private static string RequiredString(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s
            ? s : throw Invalid($"\"{name}\" is required and must be a string", name);

    private static DirectusException Invalid(string reason, string? field) => DirectusException.InvalidPayload(reason, field);
}
