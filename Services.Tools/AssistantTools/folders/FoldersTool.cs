using System.Text.Json.Nodes;
using AiAssistant.Services.Tools.Content.Files;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>The reference's <c>folders</c> tool: <c>directus_folders</c> through <see cref="ItemsService"/>, under the caller's grants on it.</summary>
public sealed class FoldersTool(ItemsService items) : IToolHandler
{
    public string Name => "folders";

    public async Task<JsonNode?> HandleAsync(ToolCall call) => call.Action switch
    {
        "create" => await ItemActions.CreateAsync(items, FileTables.Folders, call),
        "read" => await ItemActions.ReadAsync(items, FileTables.Folders, call),
        "update" => await ItemActions.UpdateAsync(items, FileTables.Folders, call),
        "delete" => await ItemActions.DeleteAsync(items, FileTables.Folders, call),
        _ => throw ItemActions.UnknownAction(call),
    };
}
