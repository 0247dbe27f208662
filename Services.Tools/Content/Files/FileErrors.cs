using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>The refusals particular to files, in the Directus envelope.</summary>
public static class FileErrors
{
    public static DirectusException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, ErrorCodes.ContentTooLarge,
            $"Uploaded content is too large. A file may have at most {maxBytes / (1024 * 1024.0):0.#} MiB ({maxBytes} bytes).");

    public static DirectusException NotMultipart() =>
        new(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
            "Unsupported media type. Send files as multipart/form-data.");

    public static DirectusException NotTransformable(string? type) =>
        new(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
            $"Unsupported media type. Only PNG, JPEG, WebP and GIF images can be transformed; this file is {type ?? "of no known type"}.");

    public static DirectusException NotAsset(string? type) =>
        new(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
            $"Unsupported media type. Only image and audio files can be read as assets; this file is {type ?? "of no known type"}.");
}
