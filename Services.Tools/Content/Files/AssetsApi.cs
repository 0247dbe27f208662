using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// <c>GET /assets/:id</c> (and <c>/assets/:id/:filename</c>): a file's bytes for a caller who may read its row, with
/// its type, <c>Range</c> requests (206) and <c>?download</c> (an attachment). An image may be transformed
/// (<see cref="ImageTransform"/>); each distinct transform is made once and kept beside the original.
/// </summary>
public static class AssetsApi
{
    public static IEndpointRouteBuilder MapAssetsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/assets/{id}", (string id, [AsParameters] ItemsRequest r, IFileStorage storage, IOptions<FileOptions> options) =>
            ServeAsync(id, r, storage, options.Value)).WithName("ReadAsset");
        app.MapGet("/assets/{id}/{filename}", (string id, [AsParameters] ItemsRequest r, IFileStorage storage, IOptions<FileOptions> options) =>
            ServeAsync(id, r, storage, options.Value)).WithName("ReadAssetNamed");
        return app;
    }

    private static async Task<IResult> ServeAsync(string id, ItemsRequest r, IFileStorage storage, FileOptions options)
    {
        var query = r.Context.Request.Query;
        var transform = ImageTransform.From(query, options.MaxTransformDimension);
        if (!Guid.TryParse(id, out _)) throw DirectusException.Forbidden();
        // the caller's read grant decides whether the file exists for them; the row itself is read whole
        await ItemsApi.ItemAsync(FileTables.Files, id, r, new JsonObject());
        var row = (await FileStore.RowsAsync([JsonValue.Create(id)], r.Reader, r.Aborted)).Single();
        var type = row["type"]?.GetValue<string>() ?? "application/octet-stream";
        var name = row["filename_download"]?.GetValue<string>() ?? id;
        var key = row["filename_disk"]?.GetValue<string>() ?? throw DirectusException.Forbidden();

        Stream? content;
        if (transform is null)
            content = storage.OpenRead(key);
        else
        {
            if (!Images.IsTransformable(type)) throw FileErrors.NotTransformable(type);
            var cached = $"{FileStore.TransformFolder(id)}/{transform.Key(type)}";
            content = storage.OpenRead(cached);
            if (content is null)
            {
                await using (var original = storage.OpenRead(key) ?? throw DirectusException.Forbidden())
                {
                    var bytes = Images.Transform(original, type, transform, options.MaxTransformDimension, options.MaxImagePixels);
                    await storage.PutAsync(cached, new MemoryStream(bytes), r.Aborted);
                }
                content = storage.OpenRead(cached);
            }
            var format = transform.OutputFormat(type);
            (type, name) = (ImageTransform.MediaType(format), Path.ChangeExtension(name, "." + format));
        }
        if (content is null) throw DirectusException.Forbidden();

        var headers = r.Context.Response.Headers;
        headers[HeaderNames.XContentTypeOptions] = "nosniff";
        // an uploaded HTML or SVG file must not run as this origin's page
        headers[HeaderNames.ContentSecurityPolicy] = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; sandbox";
        headers.CacheControl = "private, max-age=0, must-revalidate";
        var download = query.ContainsKey("download");
        headers.ContentDisposition = new ContentDispositionHeaderValue(download ? "attachment" : "inline") { FileNameStar = name, FileName = Ascii(name) }.ToString();
        return Results.Stream(content, type, enableRangeProcessing: true);
    }

    private static string Ascii(string name) =>
        "\"" + new string(name.Select(c => c is >= ' ' and <= '~' and not '"' and not '\\' ? c : '_').ToArray()) + "\"";
}
