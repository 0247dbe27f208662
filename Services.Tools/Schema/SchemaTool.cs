using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts.Tools;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.Schema;

/// <summary>
/// The reference's root <c>schema</c> tool: with no keys, the list of collections, collection folders and notes;
/// with keys, those collections' details.
/// </summary>
public sealed class SchemaTool(CollectionsStore collections) : ITool
{
    public string Name => "schema";
    public string Description =>
        "Read the CMS schema. Without parameters: the list of collections with their notes. With keys: details of those collections.";
    public string InputSchema => """
        {"type":"object","properties":{"keys":{"type":"array","items":{"type":"string"},"description":"Collections to describe in detail"}},"additionalProperties":false}
        """;
    public bool ReadOnly => true;

    public async Task<JsonNode?> ExecuteAsync(JsonElement input, Caller caller, CancellationToken ct)
    {
        var all = await collections.ListAsync(ct);
        if (input.ValueKind == JsonValueKind.Object && input.TryGetProperty("keys", out var keys) && keys.ValueKind == JsonValueKind.Array)
        {
            var wanted = keys.EnumerateArray().Where(k => k.ValueKind == JsonValueKind.String).Select(k => k.GetString()!).ToHashSet();
            var details = new JsonObject();
            foreach (var c in all.Where(c => wanted.Contains(c.Collection)))
                details[c.Collection] = new JsonObject { ["note"] = c.Note, ["singleton"] = c.Singleton, ["fields"] = new JsonObject() };
            var missing = wanted.Where(w => all.All(c => c.Collection != w)).ToList();
            if (missing.Count > 0 && details.Count == 0)
                throw new ToolException("NOT_FOUND", $"No collection named {string.Join(", ", missing.Select(m => $"\"{m}\""))}. Call schema() to list them.");
            return details;
        }
        var notes = new JsonObject();
        foreach (var c in all.Where(c => c.Note is not null)) notes[c.Collection] = c.Note;
        return new JsonObject
        {
            ["collections"] = new JsonArray(all.Where(c => !c.Hidden).Select(c => (JsonNode)JsonValue.Create(c.Collection)).ToArray()),
            ["collection_folders"] = new JsonArray(),
            ["notes"] = notes,
        };
    }
}
