using AiAssistant.Services.Tools.Content.Files;
using SkiaSharp;
using Xunit;

namespace AiAssistant.Tests.Content.Files;

public sealed class FileNamesTests
{
    [Theory]
    [InlineData("photo.png", "photo.png")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("..\\..\\windows\\win.ini", "win.ini")]
    [InlineData("/absolute/path/report.pdf", "report.pdf")]
    [InlineData("..", "file")]
    [InlineData("...hidden", "hidden")]
    [InlineData("a\"b<c>d|e?.txt", "a_b_c_d_e_.txt")]
    [InlineData("line\r\nbreak.txt", "line__break.txt")]
    [InlineData("", "file")]
    [InlineData(null, "file")]
    public void A_download_name_keeps_only_a_clean_last_segment(string? given, string expected) =>
        Assert.Equal(expected, FileNames.Sanitise(given));

    [Fact]
    public void A_long_name_is_cut_and_keeps_its_extension()
    {
        var name = FileNames.Sanitise(new string('x', 500) + ".jpeg");
        Assert.Equal(200, name.Length);
        Assert.EndsWith(".jpeg", name);
    }

    [Fact]
    public void Image_types_come_from_the_bytes_not_from_the_declared_type()
    {
        Assert.Equal("image/png", FileNames.DetectType(TestImages.Encode(4, 4, SKEncodedImageFormat.Png), "text/plain"));
        Assert.Equal("image/jpeg", FileNames.DetectType(TestImages.Encode(4, 4, SKEncodedImageFormat.Jpeg), null));
        Assert.Equal("image/webp", FileNames.DetectType(TestImages.Encode(4, 4, SKEncodedImageFormat.Webp), "application/octet-stream"));
        // text that claims to be an image is not believed
        Assert.Equal("application/octet-stream", FileNames.DetectType("hello"u8, "image/png"));
        Assert.Equal("text/plain", FileNames.DetectType("hello"u8, "text/plain; charset=utf-8"));
        Assert.Equal("application/octet-stream", FileNames.DetectType("hello"u8, "text/html\r\nX-Evil: 1"));
    }

    [Fact]
    public void Stored_keys_take_the_extension_of_the_detected_type_only()
    {
        Assert.Equal(".png", FileNames.Extension("image/png"));
        Assert.Equal(".jpg", FileNames.Extension("image/jpeg"));
        Assert.Equal("", FileNames.Extension("application/x-unknown"));
    }
}
