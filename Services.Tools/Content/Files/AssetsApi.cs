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
        app.MapGet("/assets/{id}", (string id, [AsParameters] ItemsRequest r, FileStore store, IOptions<FileOptions> options) =>
            ServeAsync(id, r, store, options.Value)).WithName("ReadAsset");
        app.MapGet("/assets/{id}/{filename}", (string id, [AsParameters] ItemsRequest r, FileStore store, IOptions<FileOptions> options) =>
            ServeAsync(id, r, store, options.Value)).WithName("ReadAssetNamed");
        return app;
    }

    private static async Task<IResult> ServeAsync(string id, ItemsRequest r, FileStore store, FileOptions options)
    {
        var query = r.Context.Request.Query;
        var transform = ImageTransform.From(query, options.MaxTransformDimension);
        // the caller's read grant decides whether the file exists for them; the row itself is read whole
        var (access, context) = await ItemsApi.AccessAsync(r);
        var row = await FileStore.ReadableAsync(id, r.Items, r.Reader, access, context, r.Aborted);
        var name = row["filename_download"]?.GetValue<string>() ?? id;
        var (content, type) = await store.OpenAsync(row, transform, r.Aborted);
        if (transform is not null) name = Path.ChangeExtension(name, "." + transform.OutputFormat(row["type"]!.GetValue<string>()));

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
