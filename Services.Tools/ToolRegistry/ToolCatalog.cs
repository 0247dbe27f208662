using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>
/// Reads every tool's data from the assembly (<c>AssistantTools/&lt;name&gt;/tool.json</c> and <c>instructions.md</c>,
/// embedded as <c>tools/&lt;name&gt;/…</c>). A <c>tool.json</c>:
/// <code>
/// { "name", "title"?, "description", "keywords": [],
///   "readOnly": true | false | ["read", …],      // fixed, or read-only for these actions
///   "admin"?: true, "root"?: true, "openWorld"?: true,
///   "inputSchema": { … },                         // the permissive schema the model sees
///   "outputSchema"?: { … },
///   "validate": { … } | "validateByAction": { "read": { … }, … } }   // strict, JSON Schema 2020-12
/// </code>
/// Any schema may use a shared definition of <c>AssistantTools/shared.json</c> (the query, keys, a field, …) as
/// <c>{"$ref": "#/$defs/query"}</c>: it is inlined at load, with the referring object's own keys (a description, a
/// <c>required</c> list) over the definition's, so the model's types and the validation read plain schemas.
/// A malformed file fails the start with the file's name: tools are data, and bad data must not reach a model.
/// </summary>
public static class ToolCatalog
{
    public static IReadOnlyList<ToolManifest> Load() => Load(typeof(ToolCatalog).Assembly);

    public static IReadOnlyList<ToolManifest> Load(Assembly assembly)
    {
        var definitions = ReadOptional(assembly, "tools/shared.json") is { } shared
            ? (JsonNode.Parse(shared)?["$defs"] as JsonObject ?? throw new InvalidDataException("tools/shared.json has no \"$defs\" object"))
            : [];
        var manifests = new List<ToolManifest>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith("tools/", StringComparison.Ordinal) && r.EndsWith("/tool.json", StringComparison.Ordinal)))
        {
            var folder = resource[..^"tool.json".Length];
            try
            {
                var json = JsonNode.Parse(Read(assembly, resource)) as JsonObject ?? throw new InvalidDataException("not a JSON object");
                manifests.Add(Parse((JsonObject)Inline(json, definitions, 0)!, ReadOptional(assembly, folder + "instructions.md") ?? ""));
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException or FormatException or ArgumentException)
            {
                throw new InvalidDataException($"Tool data {resource} is invalid: {e.Message}", e);
            }
        }
        return manifests.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
    }

    public static ToolManifest Parse(JsonObject json, string instructions)
    {
        var name = Required(json, "name");
        var validation = new Dictionary<string, JsonSchema>();
        if (json["validateByAction"] is JsonObject byAction)
            foreach (var (action, schema) in byAction)
                validation[action] = Schema(schema, $"validateByAction.{action}");
        else validation[""] = Schema(json["validate"], "validate");
        var readOnly = json["readOnly"];
        return new ToolManifest
        {
            Name = name,
            Title = json["title"]?.GetValue<string>(),
            Description = Required(json, "description"),
            Instructions = instructions.Trim(),
            Keywords = json["keywords"] is JsonArray k ? k.Select(x => x!.GetValue<string>()).ToList() : [],
            InputSchema = json["inputSchema"] as JsonObject ?? throw new InvalidDataException("\"inputSchema\" must be an object"),
            OutputSchema = json["outputSchema"] as JsonObject,
            Validation = validation,
            ReadOnly = readOnly is JsonValue v && v.GetValue<bool>(),
            ReadOnlyActions = readOnly is JsonArray actions ? actions.Select(a => a!.GetValue<string>()).ToHashSet() : new HashSet<string>(),
            Admin = json["admin"]?.GetValue<bool>() == true,
            Root = json["root"]?.GetValue<bool>() == true,
            OpenWorld = json["openWorld"]?.GetValue<bool>() == true,
        };
    }

    /// <summary>A text file a tool keeps beside its data (<c>AssistantTools/&lt;tool&gt;/&lt;file&gt;</c>), or null.</summary>
    public static string? Text(string tool, string file) => ReadOptional(typeof(ToolCatalog).Assembly, $"tools/{tool}/{file}");

    /// <summary>A copy of <paramref name="node"/> with every <c>{"$ref": "#/$defs/x"}</c> replaced by the shared definition.</summary>
    private static JsonNode? Inline(JsonNode? node, JsonObject definitions, int depth)
    {
        if (depth > 32) throw new InvalidDataException("shared definitions refer to each other in a loop");
        switch (node)
        {
            case JsonObject o:
                var shared = o["$ref"] is JsonValue r && r.TryGetValue<string>(out var reference) && reference.StartsWith("#/$defs/", StringComparison.Ordinal)
                    ? definitions[reference["#/$defs/".Length..]] as JsonObject
                      ?? throw new InvalidDataException($"\"$ref\": \"{reference}\" names no definition of AssistantTools/shared.json")
                    : null;
                var result = shared is null ? [] : (JsonObject)Inline(shared, definitions, depth + 1)!;
                foreach (var (key, value) in o.Where(p => shared is null || p.Key != "$ref"))
                    result[key] = Inline(value, definitions, depth);
                return result;
            case JsonArray a:
                return new JsonArray(a.Select(item => Inline(item, definitions, depth)).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    private static JsonSchema Schema(JsonNode? node, string what) =>
        node is JsonObject o ? JsonSchema.FromText(o.ToJsonString()) : throw new InvalidDataException($"\"{what}\" must be a JSON Schema object");

    private static string Required(JsonObject json, string name) =>
        json[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : throw new InvalidDataException($"\"{name}\" is required");

    private static string Read(Assembly assembly, string resource) =>
        ReadOptional(assembly, resource) ?? throw new InvalidDataException($"missing resource {resource}");

    private static string? ReadOptional(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
