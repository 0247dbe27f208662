using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Providers;
using Microsoft.AspNetCore.Http.Features;

namespace AiAssistant.Services.Chat.Files;

/// <summary>
/// <c>POST /ai/files</c>: multipart <c>file</c> and <c>provider</c>, checked in the reference's order (app access, a
/// file, a provider, one with a file API, an allowed type, 50 MB), then uploaded to that provider's file API
/// (<see cref="ProviderFiles"/>) and answered with its <see cref="ProviderFileRef"/>, unwrapped as the reference does.
/// Nothing is stored here.
/// </summary>
public static class FilesApi
{
    public const long MaxBytes = 50L * 1024 * 1024;

    /// <summary>The reference's <c>AI_ALLOWED_MIME_TYPES</c>.</summary>
    public static readonly string[] AllowedMimeTypes =
        ["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain", "audio/mpeg", "audio/wav", "video/mp4"];

    public static IEndpointRouteBuilder MapFilesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/ai/files", Upload).WithName("UploadFile").DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> Upload(HttpContext context, ProviderConfigCache providers, ProviderFiles files, ILogger<ProviderFiles> logger, CancellationToken ct)
    {
        context.RequireApp();
        if (!context.Request.HasFormContentType || !(context.Request.ContentType ?? "").StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw new DirectusException(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
                "Unsupported media type. POST /ai/files takes multipart/form-data with the fields \"file\" and \"provider\".");
        // the form may carry the 50 MB file and a little more; past that the form reader stops and it is a 400 on the file
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBytes + 1024 * 1024;
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = MaxBytes + 64 * 1024 }, ct);
        }
        catch (InvalidDataException)
        {
            throw TooLarge();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }

        if (form.Files.GetFile("file") is not { } file) throw Invalid("No file provided", "file");
        var provider = form["provider"].ToString();
        if (provider.Length == 0) throw Invalid("No provider specified", "provider");
        if (provider == ProviderTypes.OpenAiCompatible || provider.StartsWith(ProviderTypes.OpenAiCompatible + ":", StringComparison.Ordinal))
            throw Invalid("File uploads not supported for openai-compatible provider", "provider");
        if (provider is not (ProviderTypes.OpenAi or ProviderTypes.Anthropic or ProviderTypes.Google))
            throw Invalid($"Unsupported provider: {Cut(provider)}", "provider");
        var mimeType = (file.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (Array.IndexOf(AllowedMimeTypes, mimeType) < 0)
            throw Invalid($"Unsupported file type: {Cut(mimeType.Length > 0 ? mimeType : "none")}. Allowed: {string.Join(", ", AllowedMimeTypes)}", "file");
        if (file.Length > MaxBytes) throw TooLarge();

        var snapshot = await providers.GetAsync(ct);
        if (!snapshot.Providers.TryGetValue(provider, out var configured) || configured.Config.ApiKey.Length == 0)
            throw DirectusException.ServiceUnavailable(provider, "No API key configured for LLM provider");

        var content = new byte[file.Length];
        await using (var stream = file.OpenReadStream()) await stream.ReadExactlyAsync(content, ct);
        var filename = Path.GetFileName(file.FileName) is { Length: > 0 } name ? name : "file";
        var uploaded = await files.UploadAsync(provider, configured.Config.ApiKey, new UploadedFile(filename, mimeType, content), ct);
        logger.LogInformation("A file of {SizeBytes} bytes was uploaded to {Provider}", uploaded.SizeBytes, provider);
        return TypedResults.Json(uploaded);
    }

    private static DirectusException TooLarge() => Invalid($"File exceeds maximum size of {MaxBytes / 1024 / 1024}MB", "file");

    private static DirectusException Invalid(string reason, string field) => DirectusException.InvalidPayload(reason, field);

    private static string Cut(string value) => value.Length > 80 ? value[..80] + "…" : value;
}
