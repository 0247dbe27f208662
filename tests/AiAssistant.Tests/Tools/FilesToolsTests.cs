using System.Text.Json.Nodes;
using AiAssistant.Tests.Content.Files;
using AiAssistant.Tests.Infrastructure;
using SkiaSharp;
using Xunit;
using static AiAssistant.Tests.Tools.ToolsDatabase;

namespace AiAssistant.Tests.Tools;

/// <summary>The <c>files</c>, <c>folders</c> and <c>assets</c> tools against a real content database and file storage.</summary>
[Collection(ServersCollection.Name)]
public sealed class FilesToolsTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _db = null!;

    public async Task InitializeAsync() => _db = await ToolsDatabase.CreateAsync(servers, "filestool");

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private string[] StoredBytes() => Directory.GetFiles(_db.FilesRoot).Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public async Task Files_are_read_updated_and_deleted_with_their_bytes()
    {
        var id = await _db.UploadAsync(TestImages.Encode(12, 8, SKEncodedImageFormat.Png), "logo.png");
        var read = await _db.ExecuteAsync("files", $$$"""{"action":"read","keys":["{{{id}}}"],"query":{"fields":["id","type","width","height","title"]}}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$$"""[{"id":"{{{id}}}","type":"image/png","width":12,"height":8,"title":"Logo"}]"""), read["result"]), read.ToJsonString());
        Assert.Equal($"{PublicUrl}/admin/files/{id}", read["url"]!.GetValue<string>());

        var updated = await _db.ResultAsync("files", $$$"""{"action":"update","keys":["{{{id}}}"],"data":{"title":"Brand logo","tags":["brand","logo"],"focal_point_x":6}}""");
        Assert.Equal(("Brand logo", "[\"brand\",\"logo\"]", 6),
            (updated![0]!["title"]!.GetValue<string>(), updated[0]!["tags"]!.ToJsonString(), updated[0]!["focal_point_x"]!.GetValue<int>()));
        var batch = await _db.ResultAsync("files", $$$"""{"action":"update","data":[{"id":"{{{id}}}","description":"The logo"}],"query":{"fields":["description"]}}""");
        Assert.Equal("The logo", batch![0]!["description"]!.GetValue<string>());
        var storeOwned = await _db.ErrorAsync("files", $$$"""{"action":"update","keys":["{{{id}}}"],"data":{"type":"text/html"}}""");
        Assert.Equal("INVALID_PAYLOAD", Code(storeOwned));

        Assert.Single(StoredBytes());
        var deleted = await _db.ResultAsync("files", $$$"""{"action":"delete","keys":["{{{id}}}"]}""");
        Assert.Equal(id, deleted![0]!.GetValue<string>());
        Assert.Empty((await _db.ResultAsync("files", """{"action":"read"}"""))!.AsArray());
        Assert.Empty(StoredBytes());
    }

    [Fact]
    public async Task Import_downloads_through_the_guarded_client_and_keeps_all_or_nothing()
    {
        await using var server = await ImportServer.StartAsync(TestImages.Encode(20, 10, SKEncodedImageFormat.Png), 1024);
        var keys = await _db.ResultAsync("files", $$$"""
            {"action":"import","data":[{"url":"http://localhost:{{{server.Port}}}/pictures/logo.png","file":{"title":"Imported","tags":["web"]}}]}
            """);
        var id = Assert.Single(keys!.AsArray())!.GetValue<string>();
        var file = (await _db.ResultAsync("files", $$$"""{"action":"read","keys":["{{{id}}}"]}"""))![0]!;
        Assert.Equal(("Imported", "image/png", 20, "logo.png"),
            (file["title"]!.GetValue<string>(), file["type"]!.GetValue<string>(), file["width"]!.GetValue<int>(), file["filename_download"]!.GetValue<string>()));

        // loopback by address is refused (only the configured host name is trusted), and it takes the good entry with it
        var refused = await _db.ErrorAsync("files", $$$"""
            {"action":"import","data":[{"url":"http://localhost:{{{server.Port}}}/pictures/logo.png"},{"url":"http://127.0.0.1:{{{server.Port}}}/pictures/logo.png"}]}
            """);
        Assert.Equal("INVALID_PAYLOAD", Code(refused));
        Assert.True(refused["recoverable"]!.GetValue<bool>());
        Assert.Contains("can't be imported", refused["message"]!.GetValue<string>());
        Assert.Single((await _db.ResultAsync("files", """{"action":"read"}"""))!.AsArray());

        var requests = server.Requests;
        var reader = _db.Grant("00000000-0000-0000-0000-0000000000c1", Rule("directus_files", "read"));
        var forbidden = await _db.ErrorAsync("files", $$$"""{"action":"import","data":[{"url":"http://localhost:{{{server.Port}}}/pictures/logo.png"}]}""", reader);
        Assert.Equal("FORBIDDEN", Code(forbidden));
        Assert.Equal(requests, server.Requests); // refused before anything was fetched

        var noUrl = await _db.ErrorAsync("files", """{"action":"import","data":[{"file":{"title":"x"}}]}""");
        Assert.Equal("INVALID_PAYLOAD", Code(noUrl));
    }

    [Fact]
    public async Task A_user_sees_only_the_files_its_row_filter_admits()
    {
        var mine = await _db.UploadAsync(TestImages.Encode(4, 4, SKEncodedImageFormat.Png), "mine.png");
        var other = await _db.UploadAsync(TestImages.Encode(4, 4, SKEncodedImageFormat.Png), "other.png");
        var user = _db.Grant("00000000-0000-0000-0000-0000000000c2", Rule("directus_files", "read", $$$"""{"id":{"_eq":"{{{mine}}}"}}""", "id", "title", "type"));
        var read = await _db.ResultAsync("files", """{"action":"read"}""", user);
        Assert.Equal([mine], read!.AsArray().Select(f => f!["id"]!.GetValue<string>()));
        Assert.DoesNotContain(other, read.ToJsonString());
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("assets", $$$"""{"id":"{{{other}}}"}""", user)));
        Assert.Equal("image", (await _db.ResultAsync("assets", $$$"""{"id":"{{{mine}}}"}""", user))!["type"]!.GetValue<string>());
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("files", $$$"""{"action":"delete","keys":["{{{mine}}}"]}""", user)));
    }

    [Theory]
    [InlineData(2000, 1000, 800, 400)]
    [InlineData(1000, 2000, 400, 800)]
    [InlineData(1000, 500, 1000, 500)]
    public async Task Assets_returns_an_image_as_base64_resized_to_800_when_over_1200(int width, int height, int sentWidth, int sentHeight)
    {
        var id = await _db.UploadAsync(TestImages.Encode(width, height, SKEncodedImageFormat.Png), "big.png");
        var asset = await _db.ResultAsync("assets", $$$"""{"id":"{{{id}}}"}""");
        Assert.Equal(("image", "image/png"), (asset!["type"]!.GetValue<string>(), asset["mimeType"]!.GetValue<string>()));
        var (format, w, h) = TestImages.Decode(Convert.FromBase64String(asset["data"]!.GetValue<string>()));
        Assert.Equal((SKEncodedImageFormat.Png, sentWidth, sentHeight), (format, w, h));
    }

    [Fact]
    public async Task Assets_returns_audio_as_stored_and_refuses_other_types_and_unknown_ids()
    {
        var sound = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var audio = await _db.UploadAsync(sound, "jingle.mp3", "audio/mpeg");
        var asset = await _db.ResultAsync("assets", $$$"""{"id":"{{{audio}}}"}""");
        Assert.Equal(("audio", "audio/mpeg"), (asset!["type"]!.GetValue<string>(), asset["mimeType"]!.GetValue<string>()));
        Assert.Equal(sound, Convert.FromBase64String(asset["data"]!.GetValue<string>()));

        var text = await _db.UploadAsync("hello"u8.ToArray(), "notes.txt", "text/plain");
        var refused = await _db.ErrorAsync("assets", $$$"""{"id":"{{{text}}}"}""");
        Assert.Equal(("UNSUPPORTED_MEDIA_TYPE", false), (Code(refused), refused["recoverable"]!.GetValue<bool>()));
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("assets", $$$"""{"id":"{{{Guid.NewGuid()}}}"}""")));
        Assert.Equal("FORBIDDEN", Code(await _db.ErrorAsync("assets", """{"id":"../../etc/passwd"}""")));
        Assert.Equal("INVALID_PAYLOAD", Code(await _db.ErrorAsync("assets", $$$"""{"id":"{{{audio}}}","width":10}""")));
    }

    [Fact]
    public async Task Folders_are_created_read_updated_and_deleted()
    {
        var created = await _db.ResultAsync("folders", """{"action":"create","data":[{"name":"Brand"},{"name":"Events"}],"query":{"fields":["id","name"]}}""");
        var brand = created!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "Brand")!["id"]!.GetValue<string>();
        var child = await _db.ResultAsync("folders", $$$"""{"action":"create","data":{"name":"Logos","parent":"{{{brand}}}"}}""");
        var logos = child![0]!["id"]!.GetValue<string>();
        Assert.Equal(brand, child[0]!["parent"]!.GetValue<string>());

        var top = await _db.ResultAsync("folders", """{"action":"read","query":{"filter":{"parent":{"_null":true}},"sort":["name"],"fields":["name"]}}""");
        Assert.Equal(["Brand", "Events"], top!.AsArray().Select(f => f!["name"]!.GetValue<string>()));
        var renamed = await _db.ResultAsync("folders", $$$"""{"action":"update","keys":["{{{logos}}}"],"data":{"name":"Logos 2024","parent":null}}""");
        Assert.Equal(("Logos 2024", null), (renamed![0]!["name"]!.GetValue<string>(), renamed[0]!["parent"]?.GetValue<string>()));

        Assert.Equal("INVALID_PAYLOAD", Code(await _db.ErrorAsync("folders", """{"action":"create","data":{"parent":null}}""")));
        Assert.Equal("INVALID_PAYLOAD", Code(await _db.ErrorAsync("folders", """{"action":"update","data":[{"name":"x"}]}""")));
        var deleted = await _db.ResultAsync("folders", $$$"""{"action":"delete","keys":["{{{brand}}}"]}""");
        Assert.Equal(brand, deleted![0]!.GetValue<string>());
        Assert.Equal(2, (await _db.ResultAsync("folders", """{"action":"read"}"""))!.AsArray().Count);
    }
}
