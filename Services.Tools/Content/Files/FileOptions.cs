namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// The <c>Files</c> configuration section. The AppHost sets <c>Files:Root</c> to <c>&lt;data&gt;/files</c>; the rest
/// have defaults a deployment rarely changes.
/// </summary>
public sealed class FileOptions
{
    public const string Section = "Files";

    /// <summary>Where the local storage driver keeps the bytes (originals and cached transforms).</summary>
    public string Root { get; set; } = Path.Combine(Path.GetTempPath(), "aiassistant-files");

    /// <summary>The largest file an upload or an import may bring.</summary>
    public long MaxFileBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>The largest width or height a transform may ask for (Directus's ASSETS_TRANSFORM_IMAGE_MAX_DIMENSION).</summary>
    public int MaxTransformDimension { get; set; } = 4096;

    /// <summary>The largest image (width × height) that is decoded for a transform.</summary>
    public long MaxImagePixels { get; set; } = 50_000_000;

    public ImportOptions Import { get; set; } = new();
}

/// <summary><c>Files:Import</c>: where <c>POST /files/import</c> may download from, and for how long.</summary>
public sealed class ImportOptions
{
    /// <summary>Allows loopback, private, link-local and unique-local addresses (a closed network's own servers).</summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>Host names trusted whatever they resolve to (tests: <c>localhost</c>); an IP literal is never in this list's reach.</summary>
    public List<string> AllowedHosts { get; set; } = [];

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxRedirects { get; set; } = 5;
}
