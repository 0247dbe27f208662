using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Files;
using SkiaSharp;
using Xunit;

namespace AiAssistant.Tests.Content.Files;

public sealed class ImagesTests
{
    [Theory]
    [InlineData("cover", 20, 20, 20, 20)]
    [InlineData("contain", 20, 20, 20, 20)]
    [InlineData("inside", 20, 20, 20, 15)]
    [InlineData("outside", 20, 20, 27, 20)]
    public void Each_fit_gives_the_size_sharp_gives(string fit, int width, int height, int expectedWidth, int expectedHeight)
    {
        var source = TestImages.Encode(40, 30, SKEncodedImageFormat.Png);
        var result = Images.Transform(new MemoryStream(source), "image/png", new ImageTransform(width, height, fit, 80, null), 4096, 50_000_000);
        Assert.Equal((SKEncodedImageFormat.Png, expectedWidth, expectedHeight), TestImages.Decode(result));
    }

    [Fact]
    public void One_dimension_keeps_the_aspect_ratio_and_format_converts()
    {
        var source = TestImages.Encode(40, 30, SKEncodedImageFormat.Jpeg);
        var result = Images.Transform(new MemoryStream(source), "image/jpeg", new ImageTransform(20, null, "cover", 60, "webp"), 4096, 50_000_000);
        Assert.Equal((SKEncodedImageFormat.Webp, 20, 15), TestImages.Decode(result));
    }

    [Fact]
    public void Text_is_not_an_image_to_transform_and_a_huge_result_is_refused()
    {
        var text = Assert.Throws<DirectusException>(() =>
            Images.Transform(new MemoryStream("hello"u8.ToArray()), "image/png", new ImageTransform(10, 10, "cover", 80, null), 4096, 50_000_000));
        Assert.Equal((415, ErrorCodes.UnsupportedMediaType), (text.Status, text.Code));
        var tall = TestImages.Encode(10, 1000, SKEncodedImageFormat.Png);
        var huge = Assert.Throws<DirectusException>(() =>
            Images.Transform(new MemoryStream(tall), "image/png", new ImageTransform(100, 100, "outside", 80, null), 4096, 50_000_000));
        Assert.Equal(400, huge.Status);
    }
}
