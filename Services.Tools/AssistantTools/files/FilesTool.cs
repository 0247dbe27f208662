using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Files;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>files</c> tool: the media library's metadata through <see cref="ItemsService"/> on
/// <c>directus_files</c> (the caller's grants on it apply, as on <c>/files</c>), deletes that take the bytes too, and
/// imports from URLs through <see cref="FileStore.ImportAsync"/> — the same guarded download as <c>POST /files/import</c>.
/// </summary>
public sealed class FilesTool(ItemsService items, FileStore store, ItemsWriter writer, ItemsReader reader) : IToolHandler
{
    public string Name => "files";

    public async Task<JsonNode?> HandleAsync(ToolCall call) => call.Action switch
    {
        "read" => await ItemActions.ReadAsync(items, FileTables.Files, call),
        "update" => await ItemActions.UpdateAsync(items, FileTables.Files, call),
        "delete" => await DeleteAsync(call),
        "import" => await ImportAsync(call),
        _ => throw ItemActions.UnknownAction(call),
    };

    public string? Link(JsonObject input, JsonObject record) =>
        record["id"] is JsonValue id && id.TryGetValue<string>(out var key) ? $"files/{Uri.EscapeDataString(key)}" : null;

    private async Task<JsonNode?> DeleteAsync(ToolCall call)
    {
        var keys = ItemActions.Keys(call);
        await store.DeleteAsync(keys, call.Caller.Writer, writer, reader, call.Aborted);
        return new JsonArray(keys.Select(k => k.DeepClone()).ToArray());
    }

    /// <summary>Every entry's download, then one transaction for all of them; answers the new files' ids.</summary>
    private async Task<JsonNode?> ImportAsync(ToolCall call)
    {
        var imports = call.Input["data"]!.AsArray()
            .Select(entry => (entry!["url"]!.GetValue<string>(), entry["file"] as JsonObject ?? new JsonObject()))
            .ToList();
        var keys = await store.ImportAsync(imports, call.Caller.Writer, writer, call.Aborted);
        return new JsonArray(keys.Select(k => k.DeepClone()).ToArray());
    }
}
