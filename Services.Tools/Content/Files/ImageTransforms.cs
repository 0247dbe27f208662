using System.Globalization;
using AiAssistant.ServiceDefaults.Errors;
using SkiaSharp;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// An asset transform as <c>/assets/:id</c> takes it: <c>width</c>, <c>height</c>, <c>fit</c> (cover, contain,
/// inside, outside, as sharp means them), <c>quality</c> (1–100) and <c>format</c> (jpg, png, webp). <see cref="Key"/>
/// names the normalised request, so equal requests share one cached result.
/// </summary>
public sealed record ImageTransform(int? Width, int? Height, string Fit, int Quality, string? Format)
{
    private static readonly string[] Fits = ["cover", "contain", "inside", "outside"];
    private static readonly string[] Formats = ["jpg", "png", "webp"];

    /// <summary>The transform a query asks for, or null for the original bytes; bad values are 400 <c>INVALID_QUERY</c>.</summary>
    public static ImageTransform? From(IQueryCollection query, int maxDimension)
    {
        if (!new[] { "width", "height", "fit", "quality", "format" }.Any(query.ContainsKey)) return null;
        int? Dimension(string name) => query[name].ToString() is { Length: > 0 } text
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1 && v <= maxDimension ? v
                : throw Invalid($"\"{name}\" must be a whole number from 1 to {maxDimension}")
            : null;
        var fit = query["fit"].ToString() is { Length: > 0 } f ? f : "cover";
        if (!Fits.Contains(fit)) throw Invalid("\"fit\" must be one of cover, contain, inside, outside");
        var quality = query["quality"].ToString() is { Length: > 0 } q
            ? int.TryParse(q, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v is >= 1 and <= 100 ? v : throw Invalid("\"quality\" must be a whole number from 1 to 100")
            : 80;
        var format = query["format"].ToString() is { Length: > 0 } given ? given.ToLowerInvariant() switch
        {
            "jpg" or "jpeg" => "jpg",
            "png" => "png",
            "webp" => "webp",
            "auto" => null,
            _ => throw Invalid($"\"format\" must be one of {string.Join(", ", Formats)}"),
        } : null;
        return new ImageTransform(Dimension("width"), Dimension("height"), fit, quality, format);
    }

    /// <summary>A file name for the cached result: every parameter, normalised.</summary>
    public string Key(string sourceType) =>
        $"w{Width?.ToString(CultureInfo.InvariantCulture) ?? "-"}_h{Height?.ToString(CultureInfo.InvariantCulture) ?? "-"}_{Fit}_q{Quality}.{OutputFormat(sourceType)}";

    /// <summary>The format of the result: the one asked for, else the source's own.</summary>
    public string OutputFormat(string sourceType) => Format ?? sourceType switch
    {
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        _ => "png",
    };

    public static string MediaType(string format) => format switch
    {
        "jpg" => "image/jpeg",
        "webp" => "image/webp",
        _ => "image/png",
    };

    private static DirectusException Invalid(string reason) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.InvalidQuery, $"Invalid query. {reason}.");
}

/// <summary>Image work through SkiaSharp: the size of an uploaded image, and transforms.</summary>
public static class Images
{
    /// <summary>The types <see cref="Transform"/> takes (what SkiaSharp decodes and <see cref="FileNames.DetectType"/> recognises).</summary>
    public static bool IsTransformable(string? type) => type is "image/png" or "image/jpeg" or "image/webp" or "image/gif";

    /// <summary>Width and height of the image in <paramref name="content"/>, or null when it is not one SkiaSharp can read.</summary>
    public static (int Width, int Height)? Size(Stream content)
    {
        using var codec = SKCodec.Create(content);
        return codec is null ? null : (codec.Info.Width, codec.Info.Height);
    }

    /// <summary>Applies <paramref name="transform"/> to the image in <paramref name="source"/>; 400 for an image too large or unreadable.</summary>
    public static byte[] Transform(Stream source, string sourceType, ImageTransform transform, int maxDimension, long maxPixels)
    {
        using var codec = SKCodec.Create(source) ?? throw Unreadable();
        var (w0, h0) = (codec.Info.Width, codec.Info.Height);
        if ((long)w0 * h0 > maxPixels) throw DirectusException.InvalidPayload($"The image is too large to transform ({w0}×{h0})");
        using var bitmap = SKBitmap.Decode(codec) ?? throw Unreadable();
        using var image = SKImage.FromBitmap(bitmap);

        var (w, h) = (transform.Width, transform.Height) switch
        {
            ({ } width, { } height) => (width, height),
            ({ } width, null) => (width, Math.Max(1, (int)Math.Round((double)h0 * width / w0))),
            (null, { } height) => (Math.Max(1, (int)Math.Round((double)w0 * height / h0)), height),
            _ => (w0, h0),
        };
        var scale = transform.Fit is "cover" or "outside" ? Math.Max((double)w / w0, (double)h / h0) : Math.Min((double)w / w0, (double)h / h0);
        var (scaledW, scaledH) = ((float)(w0 * scale), (float)(h0 * scale));
        // inside and outside keep the aspect ratio in the result; cover crops to the box, contain pads it
        var (outW, outH) = transform.Fit is "inside" or "outside"
            ? (Math.Max(1, (int)Math.Round(scaledW)), Math.Max(1, (int)Math.Round(scaledH)))
            : (w, h);
        if (outW > maxDimension || outH > maxDimension)
            throw DirectusException.InvalidPayload($"The transform's result ({outW}×{outH}) is larger than {maxDimension} pixels a side");

        using var surface = SKSurface.Create(new SKImageInfo(outW, outH, SKColorType.Rgba8888, SKAlphaType.Premul)) ?? throw Unreadable();
        surface.Canvas.Clear(SKColors.Transparent);
        var left = (outW - scaledW) / 2;
        var top = (outH - scaledH) / 2;
        surface.Canvas.DrawImage(image, SKRect.Create(left, top, scaledW, scaledH), new SKSamplingOptions(SKCubicResampler.Mitchell));
        using var result = surface.Snapshot();
        var format = transform.OutputFormat(sourceType) switch
        {
            "jpg" => SKEncodedImageFormat.Jpeg,
            "webp" => SKEncodedImageFormat.Webp,
            _ => SKEncodedImageFormat.Png,
        };
        using var data = result.Encode(format, transform.Quality) ?? throw Unreadable();
        return data.ToArray();
    }

    private static DirectusException Unreadable() =>
        new(StatusCodes.Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType, "Unsupported media type. The file is not an image that can be transformed.");
}
