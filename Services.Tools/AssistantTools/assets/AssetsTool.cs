using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Files;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.ToolRegistry;

namespace AiAssistant.Services.Tools.AssistantTools;

/// <summary>
/// The reference's <c>assets</c> tool: an image's or an audio file's bytes as base64 for the model, the file read under
/// the caller's grant as <c>/assets</c> reads it. An image over 1200 px a side is resized to 800 px on its long side
/// (fit contain), through the same cached transform <c>/assets?width=800</c> makes.
/// </summary>
public sealed class AssetsTool(ItemsService items, ItemsReader reader, FileStore store) : IToolHandler
{
    private const int MaxSide = 1200, ResizedSide = 800;

    /// <summary>The most a result may carry: its base64 must fit in one gRPC reply to the chat (4 MiB).</summary>
    public const int MaxBytes = 2 * 1024 * 1024;

    public string Name => "assets";

    public async Task<JsonNode?> HandleAsync(ToolCall call)
    {
        var id = call.Input["id"]!.GetValue<string>();
        var row = await FileStore.ReadableAsync(id, items, reader, call.Caller.Permissions, call.Caller.Writer.Context, call.Aborted);
        var type = row["type"]?.GetValue<string>();
        var kind = type?.StartsWith("image/", StringComparison.Ordinal) == true ? "image"
            : type?.StartsWith("audio/", StringComparison.Ordinal) == true ? "audio"
            : throw FileErrors.NotAsset(type);
        var (width, height) = (row["width"]?.GetValue<int>() ?? 0, row["height"]?.GetValue<int>() ?? 0);
        var transform = kind == "image" && Images.IsTransformable(type) && Math.Max(width, height) > MaxSide
            ? new ImageTransform(width >= height ? ResizedSide : null, width >= height ? null : ResizedSide, "contain", 80, null)
            : null;
        var (content, mimeType) = await store.OpenAsync(row, transform, call.Aborted);
        await using (content)
        {
            if (content.Length > MaxBytes)
                throw new ToolException("CONTENT_TOO_LARGE", $"The file is {content.Length} bytes; the assets tool reads files of up to {MaxBytes} bytes", recoverable: false);
            var bytes = new byte[content.Length];
            await content.ReadExactlyAsync(bytes, call.Aborted);
            return new JsonObject { ["type"] = kind, ["data"] = Convert.ToBase64String(bytes), ["mimeType"] = mimeType };
        }
    }
}
