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
/// A malformed file fails the start with the file's name: tools are data, and bad data must not reach a model.
/// </summary>
public static class ToolCatalog
{
    public static IReadOnlyList<ToolManifest> Load() => Load(typeof(ToolCatalog).Assembly);

    public static IReadOnlyList<ToolManifest> Load(Assembly assembly)
    {
        var manifests = new List<ToolManifest>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith("tools/", StringComparison.Ordinal) && r.EndsWith("/tool.json", StringComparison.Ordinal)))
        {
            var folder = resource[..^"tool.json".Length];
            try
            {
                var json = JsonNode.Parse(Read(assembly, resource)) as JsonObject ?? throw new InvalidDataException("not a JSON object");
                manifests.Add(Parse(json, ReadOptional(assembly, folder + "instructions.md") ?? ""));
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
