using System.Text;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// The names around a file: the download name a caller gave, cleaned so it can sit in a header and on anyone's disk,
/// the media type (detected from the bytes for the images we transform, else the one the caller declared) and the
/// extension the store gives the stored bytes.
/// </summary>
public static class FileNames
{
    private const int MaxLength = 200;

    private static readonly Dictionary<string, string> Extensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["image/png"] = ".png", ["image/jpeg"] = ".jpg", ["image/webp"] = ".webp", ["image/gif"] = ".gif",
        ["image/svg+xml"] = ".svg", ["image/avif"] = ".avif", ["image/tiff"] = ".tif", ["application/pdf"] = ".pdf",
        ["text/plain"] = ".txt", ["text/csv"] = ".csv", ["application/json"] = ".json", ["application/zip"] = ".zip",
        ["audio/mpeg"] = ".mp3", ["video/mp4"] = ".mp4",
    };

    /// <summary>
    /// The last segment of <paramref name="name"/> (both kinds of slash), without control characters, quotes, reserved
    /// characters or leading dots, at most 200 characters; <paramref name="fallback"/> when nothing is left.
    /// </summary>
    public static string Sanitise(string? name, string fallback = "file")
    {
        var last = (name ?? "").Replace('\\', '/').Split('/').LastOrDefault() ?? "";
        var clean = new StringBuilder(last.Length);
        foreach (var c in last.Normalize(NormalizationForm.FormC))
            clean.Append(char.IsControl(c) || c is '"' or '<' or '>' or ':' or '|' or '?' or '*' || char.IsSurrogate(c) ? '_' : c);
        var text = clean.ToString().Trim().TrimStart('.').Trim();
        if (text.Length > MaxLength)
        {
            var extension = Path.GetExtension(text);
            text = extension.Length is > 0 and <= 10 ? text[..(MaxLength - extension.Length)] + extension : text[..MaxLength];
        }
        return text.Length == 0 || text.All(c => c == '_' || c == '.') ? fallback : text;
    }

    /// <summary>The extension of stored bytes of <paramref name="type"/> (empty for a type we do not know).</summary>
    public static string Extension(string type) => Extensions.GetValueOrDefault(type, "");

    /// <summary>A title from a file name, as Directus makes one: no extension, words capitalised.</summary>
    public static string Title(string filename)
    {
        var stem = Path.GetFileNameWithoutExtension(filename).Replace('_', ' ').Replace('-', ' ').Trim();
        return string.Join(' ', stem.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
    }

    /// <summary>
    /// The media type of bytes starting with <paramref name="head"/>: PNG, JPEG, GIF and WebP by their signature (so a
    /// transform never trusts a declared type), else <paramref name="declared"/> when it is a well-formed type, else
    /// <c>application/octet-stream</c>.
    /// </summary>
    public static string DetectType(ReadOnlySpan<byte> head, string? declared)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return "image/png";
        if (head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return "image/jpeg";
        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8)) return "image/gif";
        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8)) return "image/webp";
        var type = declared?.Split(';')[0].Trim().ToLowerInvariant();
        // a declared image type whose bytes are not that image is not believed
        return type is { Length: > 2 and <= 100 } && type.Count(c => c == '/') == 1 && type.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '+' or '-')
               && !(type is "image/png" or "image/jpeg" or "image/gif" or "image/webp")
            ? type : "application/octet-stream";
    }
}
