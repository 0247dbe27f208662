using SkiaSharp;

namespace AiAssistant.Tests.Content.Files;

/// <summary>Real PNG, JPEG and WebP images made with SkiaSharp, and their decoded sizes.</summary>
public static class TestImages
{
    public static byte[] Encode(int width, int height, SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.SteelBlue);
            using var paint = new SKPaint { Color = SKColors.Orange };
            canvas.DrawRect(0, 0, width / 2f, height / 2f, paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>The format and size SkiaSharp decodes from <paramref name="bytes"/>.</summary>
    public static (SKEncodedImageFormat Format, int Width, int Height) Decode(byte[] bytes)
    {
        using var codec = SKCodec.Create(new MemoryStream(bytes)) ?? throw new InvalidOperationException("not an image");
        return (codec.EncodedFormat, codec.Info.Width, codec.Info.Height);
    }
}
