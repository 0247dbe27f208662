using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Access;
using AiAssistant.Tests.Content.Files;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using SkiaSharp;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>Files, folders and assets through the gateway: real images uploaded, stored, served, transformed, imported and deleted.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class FilesTests(EndToEndFixture e2e)
{
    private string StorageRoot => Path.Combine(e2e.Folder, "files");

    [Fact]
    public async Task Png_jpeg_and_webp_uploaded_in_one_form_keep_their_type_size_and_bytes()
    {
        var folder = await CreateFolderAsync("uploads");
        var png = TestImages.Encode(40, 30, SKEncodedImageFormat.Png);
        var jpeg = TestImages.Encode(64, 48, SKEncodedImageFormat.Jpeg);
        var webp = TestImages.Encode(20, 10, SKEncodedImageFormat.Webp);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(folder), "folder" },
            { new StringContent("The PNG"), "title" },
            { Part(png, "image/png"), "file", "red square.png" },
            { Part(jpeg, "application/octet-stream"), "file", "photo.jpeg" },
            { Part(webp, "image/webp"), "file", "tiny.webp" },
        };
        using var response = await e2e.Gateway.PostAsync("/files", form);
        // read back in key order, as a read by keys is: put them in upload order by name
        var uploaded = (await AccessTestUsers.DataAsync(response)).AsArray();
        var order = new[] { "red square.png", "photo.jpeg", "tiny.webp" };
        var files = uploaded.OrderBy(f => Array.IndexOf(order, f!["filename_download"]!.GetValue<string>())).ToList();

        Assert.Equal(3, files.Count);
        var me = (await AccessTestUsers.DataAsync(await e2e.Gateway.GetAsync("/users/me")))["id"]!.GetValue<string>();
        var expected = new[] { ("image/png", 40, 30, png, "red square.png", ".png"), ("image/jpeg", 64, 48, jpeg, "photo.jpeg", ".jpg"), ("image/webp", 20, 10, webp, "tiny.webp", ".webp") };
        foreach (var (file, (type, width, height, bytes, name, extension)) in files.Zip(expected))
        {
            var id = file!["id"]!.GetValue<string>();
            Assert.Equal(type, file["type"]!.GetValue<string>());
            Assert.Equal((width, height), (file["width"]!.GetValue<int>(), file["height"]!.GetValue<int>()));
            Assert.Equal(bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), file["filesize"]!.GetValue<string>()); // bigInteger: a string, as Directus
            Assert.Equal(name, file["filename_download"]!.GetValue<string>());
            Assert.Equal(id + extension, file["filename_disk"]!.GetValue<string>());
            Assert.Equal(("local", folder, me), (file["storage"]!.GetValue<string>(), file["folder"]!.GetValue<string>(), file["uploaded_by"]!.GetValue<string>()));
            Assert.NotNull(file["uploaded_on"]);
            Assert.True(File.Exists(Path.Combine(StorageRoot, id + extension)));

            using var asset = await e2e.Gateway.GetAsync($"/assets/{id}");
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes, await asset.Content.ReadAsByteArrayAsync());
        }
        // the fields before the first file apply to all that follow; a file without a title gets one from its name
        Assert.Equal(["The PNG", "The PNG", "The PNG"], files.Select(f => f!["title"]!.GetValue<string>()));

        // the files are items of directus_files: filter, sort, fields, meta
        var listed = JsonNode.Parse(await e2e.Gateway.GetStringAsync($"/files?filter[folder][_eq]={folder}&sort=-width&fields=id,width,folder.name&meta=filter_count"))!;
        Assert.Equal([64, 40, 20], listed["data"]!.AsArray().Select(f => f!["width"]!.GetValue<int>()));
        Assert.Equal("uploads", listed["data"]![0]!["folder"]!["name"]!.GetValue<string>());
        Assert.Equal(3, listed["meta"]!["filter_count"]!.GetValue<long>());
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = 'directus_files' and action = 'create' and item = '{files[0]!["id"]}'"));
    }

    [Fact]
    public async Task Transforms_give_the_asked_size_and_format_and_are_made_once()
    {
        var id = await UploadAsync(TestImages.Encode(40, 30, SKEncodedImageFormat.Png), "image/png", "square.png");
        foreach (var (query, format, width, height) in new[]
                 {
                     ("width=20&height=20&fit=cover", SKEncodedImageFormat.Png, 20, 20),
                     ("width=20&height=20&fit=contain", SKEncodedImageFormat.Png, 20, 20),
                     ("width=20&height=20&fit=inside", SKEncodedImageFormat.Png, 20, 15),
                     ("width=20&height=20&fit=outside", SKEncodedImageFormat.Png, 27, 20),
                     ("width=10&format=jpg&quality=50", SKEncodedImageFormat.Jpeg, 10, 8),
                     ("height=15&format=webp", SKEncodedImageFormat.Webp, 20, 15),
                 })
        {
            using var response = await e2e.Gateway.GetAsync($"/assets/{id}?{query}");
            Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal((format, width, height), TestImages.Decode(await response.Content.ReadAsByteArrayAsync()));
        }
        var cached = Directory.GetFiles(Path.Combine(StorageRoot, "transforms", id));
        Assert.Equal(6, cached.Length);
        var written = File.GetLastWriteTimeUtc(cached[0]);
        using (await e2e.Gateway.GetAsync($"/assets/{id}?width=20&height=20&fit=cover")) { }
        Assert.Equal(6, Directory.GetFiles(Path.Combine(StorageRoot, "transforms", id)).Length);
        Assert.Equal(written, File.GetLastWriteTimeUtc(cached[0]));

        foreach (var bad in new[] { "width=0", "width=99999", "fit=stretch", "format=gif", "quality=101", "width=abc" })
        {
            using var refused = await e2e.Gateway.GetAsync($"/assets/{id}?{bad}");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("INVALID_QUERY", await EndToEndFixture.ErrorCodeAsync(refused));
        }
    }

    [Fact]
    public async Task Range_requests_download_and_a_transform_of_text_is_415()
    {
        var text = "0123456789abcdefghij"u8.ToArray();
        var id = await UploadAsync(text, "text/plain", "notes.txt");

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/assets/{id}");
        request.Headers.Range = new RangeHeaderValue(5, 9);
        using var partial = await e2e.Gateway.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("bytes 5-9/20", partial.Content.Headers.ContentRange?.ToString());
        Assert.Equal("56789", await partial.Content.ReadAsStringAsync());

        using var download = await e2e.Gateway.GetAsync($"/assets/{id}?download");
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("notes.txt", download.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("text/plain", download.Content.Headers.ContentType?.MediaType);
        using var inline = await e2e.Gateway.GetAsync($"/assets/{id}");
        Assert.Equal("inline", inline.Content.Headers.ContentDisposition?.DispositionType);

        using var transform = await e2e.Gateway.GetAsync($"/assets/{id}?width=10");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, transform.StatusCode);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", await EndToEndFixture.ErrorCodeAsync(transform));
    }

    [Fact]
    public async Task A_name_with_a_path_is_only_a_download_name_and_never_a_path()
    {
        var id = await UploadAsync("x"u8.ToArray(), "text/plain", "../../../etc/passwd");
        var file = JsonNode.Parse(await e2e.Gateway.GetStringAsync($"/files/{id}"))!["data"]!;
        Assert.Equal("passwd", file["filename_download"]!.GetValue<string>());
        Assert.Equal(id + ".txt", file["filename_disk"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(e2e.Folder, "etc", "passwd")));

        // a traversal in a metadata update is a name as well
        using var patched = await e2e.Gateway.PatchAsJsonAsync($"/files/{id}", new { title = "Renamed", description = "text" });
        Assert.Equal("Renamed", (await AccessTestUsers.DataAsync(patched))["title"]!.GetValue<string>());
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from content_revisions where collection = 'directus_files' and item = '{id}'  and delta->>'title' = 'Renamed'"));
    }

    [Fact]
    public async Task Bad_uploads_are_4xx_and_leave_no_row_and_no_bytes()
    {
        var rows = await e2e.ContentScalarAsync("select count(*) from directus_files");
        var stored = StoredFiles();

        using (var oversize = new MultipartFormDataContent { { Part(new byte[EndToEndFixture.MaxFileBytes + 1], "application/octet-stream"), "file", "big.bin" } })
        using (var response = await e2e.Gateway.PostAsync("/files", oversize))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("CONTENT_TOO_LARGE", await EndToEndFixture.ErrorCodeAsync(response));
        }
        // beyond the request limit as well: Kestrel's own refusal, in the envelope. The gateway answers while the client
        // is still sending and then closes; a client busy writing may see the closed connection before the answer (a
        // race of the socket, more likely on a loaded machine), so a broken pipe is tried again, up to three times.
        for (var attempt = 1; ; attempt++)
        {
            using var huge = new MultipartFormDataContent { { Part(new byte[EndToEndFixture.MaxFileBytes + 2 * 1024 * 1024], "application/octet-stream"), "file", "huge.bin" } };
            HttpResponseMessage response;
            try { response = await e2e.Gateway.PostAsync("/files", huge); }
            catch (HttpRequestException e) when (attempt < 3 && e.InnerException is IOException) { continue; }
            using (response)
            {
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
                Assert.Equal("CONTENT_TOO_LARGE", await EndToEndFixture.ErrorCodeAsync(response));
            }
            break;
        }
        // the second file's folder does not exist: the first file is rolled back with it, bytes included
        using (var half = new MultipartFormDataContent
               {
                   { Part("fine"u8.ToArray(), "text/plain"), "file", "first.txt" },
                   { new StringContent(Guid.NewGuid().ToString()), "folder" },
                   { Part("orphan"u8.ToArray(), "text/plain"), "file", "second.txt" },
               })
        using (var response = await e2e.Gateway.PostAsync("/files", half))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("INVALID_FOREIGN_KEY", await EndToEndFixture.ErrorCodeAsync(response));
        }
        foreach (var (content, status, code) in new (HttpContent, HttpStatusCode, string)[]
                 {
                     (JsonContent.Create(new { title = "no file" }), HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
                     (new MultipartFormDataContent { { new StringContent("only a field"), "title" } }, HttpStatusCode.BadRequest, "INVALID_PAYLOAD"),
                     (new StringContent("--x\r\nbroken", System.Text.Encoding.UTF8, "multipart/form-data"), HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"),
                     (Broken(), HttpStatusCode.BadRequest, "INVALID_PAYLOAD"),
                 })
        {
            using (content)
            using (var response = await e2e.Gateway.PostAsync("/files", content))
            {
                Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Assert.Equal(code, await EndToEndFixture.ErrorCodeAsync(response));
            }
        }
        Assert.Equal(rows, await e2e.ContentScalarAsync("select count(*) from directus_files"));
        Assert.Equal(stored, StoredFiles());
        Assert.Empty(Directory.Exists(Path.Combine(StorageRoot, ".incoming")) ? Directory.GetFiles(Path.Combine(StorageRoot, ".incoming")) : []);

        static HttpContent Broken()
        {
            var content = new StringContent("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nno end");
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
            return content;
        }
    }

    [Fact]
    public async Task Import_downloads_from_an_allowed_host_and_refuses_loopback_private_and_redirects_to_them()
    {
        var png = TestImages.Encode(12, 8, SKEncodedImageFormat.Png);
        await using var server = await ImportServer.StartAsync(png, EndToEndFixture.MaxFileBytes + 1);

        using (var imported = await e2e.Gateway.PostAsJsonAsync("/files/import", new { url = $"http://localhost:{server.Port}/pictures/logo.png", data = new { title = "Imported" } }))
        {
            var file = await AccessTestUsers.DataAsync(imported);
            Assert.Equal(("image/png", 12, 8, "logo.png", "Imported"), (file["type"]!.GetValue<string>(), file["width"]!.GetValue<int>(),
                file["height"]!.GetValue<int>(), file["filename_download"]!.GetValue<string>(), file["title"]!.GetValue<string>()));
            Assert.Equal(png, await e2e.Gateway.GetByteArrayAsync($"/assets/{file["id"]}"));
        }

        var rows = await e2e.ContentScalarAsync("select count(*) from directus_files");
        var served = server.Requests;
        foreach (var url in new[]
                 {
                     $"http://127.0.0.1:{server.Port}/pictures/logo.png",
                     $"http://[::1]:{server.Port}/pictures/logo.png",
                     $"http://localhost:{server.Port}/redirect",             // to 127.0.0.1: checked again
                     "http://10.0.0.1/file.png",
                     "http://192.168.1.1/file.png",
                     "http://169.254.169.254/latest/meta-data/",
                     "http://[::ffff:127.0.0.1]/x",
                     "file:///etc/passwd",
                     "not a url",
                 })
        {
            using var refused = await e2e.Gateway.PostAsJsonAsync("/files/import", new { url });
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)refused.StatusCode} {await refused.Content.ReadAsStringAsync()}");
            Assert.Equal("INVALID_PAYLOAD", await EndToEndFixture.ErrorCodeAsync(refused));
        }
        Assert.Equal(rows, await e2e.ContentScalarAsync("select count(*) from directus_files"));
        Assert.Equal(served + 1, server.Requests); // only the redirect itself was fetched

        using var tooBig = await e2e.Gateway.PostAsJsonAsync("/files/import", new { url = $"http://localhost:{server.Port}/big" });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal(rows, await e2e.ContentScalarAsync("select count(*) from directus_files"));
    }

    [Fact]
    public async Task Folders_are_a_tree_and_deleting_a_file_removes_its_bytes_and_transforms()
    {
        var parent = await CreateFolderAsync("parent");
        using (var created = await e2e.Gateway.PostAsJsonAsync("/folders", new { name = "child", parent }))
            Assert.Equal(parent, (await AccessTestUsers.DataAsync(created))["parent"]!.GetValue<string>());
        var children = JsonNode.Parse(await e2e.Gateway.GetStringAsync($"/folders?filter[parent][_eq]={parent}&fields=name,parent.name"))!["data"]!.AsArray();
        Assert.Equal("parent", Assert.Single(children)!["parent"]!["name"]!.GetValue<string>());

        var id = await UploadAsync(TestImages.Encode(16, 16, SKEncodedImageFormat.Jpeg), "image/jpeg", "gone.jpg");
        using (await e2e.Gateway.GetAsync($"/assets/{id}?width=8")) { }
        Assert.True(Directory.Exists(Path.Combine(StorageRoot, "transforms", id)));

        using (var deleted = await e2e.Gateway.DeleteAsync($"/files/{id}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(File.Exists(Path.Combine(StorageRoot, id + ".jpg")));
        Assert.False(Directory.Exists(Path.Combine(StorageRoot, "transforms", id)));
        using (var asset = await e2e.Gateway.GetAsync($"/assets/{id}"))
            Assert.Equal(HttpStatusCode.Forbidden, asset.StatusCode);
        Assert.Equal(1, await e2e.ContentScalarAsync($"select count(*) from content_activity where collection = 'directus_files' and action = 'delete' and item = '{id}'"));
        using (var again = await e2e.Gateway.DeleteAsync($"/files/{id}"))
            Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
    }

    [Fact]
    public async Task System_collections_are_listed_but_their_shape_and_items_route_are_closed()
    {
        var collections = JsonNode.Parse(await e2e.Gateway.GetStringAsync("/collections"))!["data"]!.AsArray();
        Assert.True(Assert.Single(collections, c => c!["collection"]!.GetValue<string>() == "directus_files")!["meta"]!["system"]!.GetValue<bool>());
        using (var field = await e2e.Gateway.PostAsJsonAsync("/fields/directus_files", new { field = "extra", type = "string" }))
            Assert.Equal(HttpStatusCode.Forbidden, field.StatusCode);
        using (var drop = await e2e.Gateway.DeleteAsync("/collections/directus_folders"))
            Assert.Equal(HttpStatusCode.Forbidden, drop.StatusCode);
        using (var items = await e2e.Gateway.GetAsync("/items/directus_files"))
            Assert.Equal(HttpStatusCode.Forbidden, items.StatusCode);

        // a user field can point at a file, and reads through to it
        var posts = "posts_" + Guid.NewGuid().ToString("N")[..6];
        await e2e.PostAsync("/collections", new { collection = posts, schema = new { }, fields = new object[] { new { field = "cover", type = "uuid", meta = new { special = new[] { "file" } } } } });
        await e2e.PostAsync("/relations", new { collection = posts, field = "cover", related_collection = "directus_files" });
        var id = await UploadAsync(TestImages.Encode(8, 8, SKEncodedImageFormat.Png), "image/png", "cover.png");
        await e2e.PostAsync($"/items/{posts}", new { cover = id });
        var post = JsonNode.Parse(await e2e.Gateway.GetStringAsync($"/items/{posts}?fields=cover.type,cover.width"))!["data"]![0]!;
        Assert.Equal(("image/png", 8), (post["cover"]!["type"]!.GetValue<string>(), post["cover"]!["width"]!.GetValue<int>()));

        // a file's row is never written without its bytes, nor its storage key by a caller
        using (var nested = await e2e.Gateway.PostAsJsonAsync($"/items/{posts}", new { cover = new { title = "no bytes" } }))
            Assert.Equal(HttpStatusCode.BadRequest, nested.StatusCode);
        foreach (var owned in new object[] { new { filename_disk = "../../escape" }, new { filesize = 1 }, new { storage = "s3" } })
        {
            using var patched = await e2e.Gateway.PatchAsJsonAsync($"/files/{id}", owned);
            Assert.Equal(HttpStatusCode.BadRequest, patched.StatusCode);
            Assert.Equal("INVALID_PAYLOAD", await EndToEndFixture.ErrorCodeAsync(patched));
        }
        Assert.Equal((await e2e.Gateway.GetByteArrayAsync($"/assets/{id}")).Length, TestImages.Encode(8, 8, SKEncodedImageFormat.Png).Length);
    }

    [Fact]
    public async Task A_user_needs_a_grant_on_directus_files_and_a_row_filter_shows_only_their_own()
    {
        var adminFile = await UploadAsync("admin's"u8.ToArray(), "text/plain", "admin.txt");
        var policy = await AccessTestUsers.PolicyAsync(e2e.Gateway, app: true);
        var role = await AccessTestUsers.RoleAsync(e2e.Gateway, policy);
        var token = "st-" + Guid.NewGuid().ToString("N");
        await e2e.PostAsync("/users", new { email = AccessTestUsers.Unique("uploader-") + "@example.com", password = "pw-" + Guid.NewGuid().ToString("N"), role, token });
        using var user = AccessTestUsers.Client(e2e.GatewayUrl, token);

        using (var list = await user.GetAsync("/files"))
            Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        using (var upload = await user.PostAsync("/files", new MultipartFormDataContent { { Part("mine"u8.ToArray(), "text/plain"), "file", "mine.txt" } }))
            Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        using (var asset = await user.GetAsync($"/assets/{adminFile}"))
            Assert.Equal(HttpStatusCode.Forbidden, asset.StatusCode);

        var own = new { uploaded_by = new { _eq = "$CURRENT_USER" } };
        await e2e.PostAsync("/permissions", new { policy, collection = "directus_files", action = "create", fields = new[] { "*" } });
        await e2e.PostAsync("/permissions", new { policy, collection = "directus_files", action = "read", fields = new[] { "*" }, permissions = own });
        Assert.True(await AccessTestUsers.BecomesAsync(user, "/files", 200, TimeSpan.FromSeconds(2)), "the grant did not apply");

        string mine;
        using (var upload = await user.PostAsync("/files", new MultipartFormDataContent { { Part("mine"u8.ToArray(), "text/plain"), "file", "mine.txt" } }))
            mine = (await AccessTestUsers.DataAsync(upload))["id"]!.GetValue<string>();
        var visible = JsonNode.Parse(await user.GetStringAsync("/files?fields=id"))!["data"]!.AsArray().Select(f => f!["id"]!.GetValue<string>());
        Assert.Equal([mine], visible);
        Assert.Equal("mine", await user.GetStringAsync($"/assets/{mine}"));
        using (var asset = await user.GetAsync($"/assets/{adminFile}"))
            Assert.Equal(HttpStatusCode.Forbidden, asset.StatusCode);
        using (var delete = await user.DeleteAsync($"/files/{mine}"))
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode); // no delete grant: the bytes stay
        Assert.Equal("mine", await user.GetStringAsync($"/assets/{mine}"));
    }

    private async Task<string> CreateFolderAsync(string name)
    {
        using var response = await e2e.Gateway.PostAsJsonAsync("/folders", new { name });
        return (await AccessTestUsers.DataAsync(response))["id"]!.GetValue<string>();
    }

    private async Task<string> UploadAsync(byte[] bytes, string type, string name)
    {
        using var form = new MultipartFormDataContent { { Part(bytes, type), "file", name } };
        using var response = await e2e.Gateway.PostAsync("/files", form);
        return (await AccessTestUsers.DataAsync(response))["id"]!.GetValue<string>();
    }

    private static ByteArrayContent Part(byte[] bytes, string type)
    {
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
        return part;
    }

    private string[] StoredFiles() =>
        Directory.Exists(StorageRoot) ? Directory.GetFiles(StorageRoot).Select(f => Path.GetFileName(f)).Order().ToArray() : [];
}
