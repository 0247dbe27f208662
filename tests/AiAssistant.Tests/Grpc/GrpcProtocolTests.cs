using AiAssistant.ServiceDefaults.Grpc;
using Xunit;

namespace AiAssistant.Tests.Grpc;

public sealed class GrpcProtocolTests
{
    [Theory]
    [InlineData("2H", 2 * TimeSpan.TicksPerHour)]
    [InlineData("3M", 3 * TimeSpan.TicksPerMinute)]
    [InlineData("10S", 10 * TimeSpan.TicksPerSecond)]
    [InlineData("250m", 250 * TimeSpan.TicksPerMillisecond)]
    [InlineData("7u", 70)]
    [InlineData("500n", 5)]
    [InlineData("1n", 1)] // rounded up to one tick
    [InlineData("99999999H", 99_999_999 * TimeSpan.TicksPerHour)]
    public void Parses_every_timeout_unit(string header, long expectedTicks)
    {
        Assert.True(GrpcProtocol.TryParseTimeout(header, out var timeout));
        Assert.Equal(expectedTicks, timeout.Ticks);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("m")]
    [InlineData("123456789m")] // 9 digits
    [InlineData("10x")]
    [InlineData("-1m")]
    [InlineData("1.5S")]
    [InlineData(" 1S")]
    public void Rejects_malformed_timeouts(string? header) => Assert.False(GrpcProtocol.TryParseTimeout(header, out _));

    [Theory]
    [InlineData(250 * TimeSpan.TicksPerMillisecond, "250000u")]
    [InlineData(200 * TimeSpan.TicksPerSecond, "200000m")]
    [InlineData(5, "1u")] // rounded up, never zero
    [InlineData(30L * 24 * TimeSpan.TicksPerHour, "2592000S")]
    public void Encodes_timeouts_in_at_most_eight_digits(long ticks, string expected)
    {
        var encoded = GrpcProtocol.EncodeTimeout(TimeSpan.FromTicks(ticks));

        Assert.Equal(expected, encoded);
        Assert.True(GrpcProtocol.TryParseTimeout(encoded, out var back));
        Assert.True(back.Ticks >= ticks);
    }

    [Fact]
    public void Percent_encodes_non_printable_non_ascii_and_percent()
    {
        Assert.Equal("a%25b%0A c%C3%BC", GrpcProtocol.EncodeMessage("a%b\n cü"));
        Assert.Equal("plain text", GrpcProtocol.EncodeMessage("plain text"));
    }

    [Theory]
    [InlineData("Zugriff verweigert für „articles“ ✓\nzweite Zeile 100%")]
    [InlineData("tab\there, emoji 😀, nul \0")]
    public void Percent_encoding_round_trips(string message) =>
        Assert.Equal(message, GrpcProtocol.DecodeMessage(GrpcProtocol.EncodeMessage(message)));

    [Theory]
    [InlineData("100%", "100%")]
    [InlineData("%G1 and %4", "%G1 and %4")]
    [InlineData("%41%62", "Ab")]
    public void Malformed_percent_sequences_are_kept(string encoded, string expected) =>
        Assert.Equal(expected, GrpcProtocol.DecodeMessage(encoded));

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("Application/GRPC; charset=utf-8", true)]
    [InlineData("application/grpc-web", false)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void Recognises_grpc_content_types(string? contentType, bool expected) =>
        Assert.Equal(expected, GrpcProtocol.IsGrpcContentType(contentType));

    [Theory]
    [InlineData(400, GrpcStatusCode.Internal)]
    [InlineData(401, GrpcStatusCode.Unauthenticated)]
    [InlineData(403, GrpcStatusCode.PermissionDenied)]
    [InlineData(404, GrpcStatusCode.Unimplemented)]
    [InlineData(429, GrpcStatusCode.Unavailable)]
    [InlineData(502, GrpcStatusCode.Unavailable)]
    [InlineData(503, GrpcStatusCode.Unavailable)]
    [InlineData(504, GrpcStatusCode.Unavailable)]
    [InlineData(500, GrpcStatusCode.Unknown)]
    public void Maps_HTTP_status_to_gRPC_status(int http, GrpcStatusCode expected) =>
        Assert.Equal(expected, GrpcProtocol.FromHttpStatus(http));

    [Fact]
    public void Status_codes_have_their_wire_numbers()
    {
        Assert.Equal(17, Enum.GetValues<GrpcStatusCode>().Length);
        Assert.Equal(4, (int)GrpcStatusCode.DeadlineExceeded);
        Assert.Equal(12, (int)GrpcStatusCode.Unimplemented);
        Assert.Equal(16, (int)GrpcStatusCode.Unauthenticated);
    }
}
