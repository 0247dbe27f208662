using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// <c>/files</c> and <c>/folders</c> in Directus's shapes. Both are system collections read and updated through the
/// items handlers (<see cref="ItemsApi.MapCollection"/>: the query language, the caller's permissions on
/// <c>directus_files</c> / <c>directus_folders</c>, activity and revisions); files add their bytes: upload
/// (multipart, several files, the fields before a file apply to it), import from a URL, and a delete that removes the
/// stored bytes too. The bytes are served by <see cref="AssetsApi"/>.
/// </summary>
public static class FilesApi
{
    public static IEndpointRouteBuilder MapFilesApi(this IEndpointRouteBuilder app)
    {
        var limit = app.ServiceProvider.GetRequiredService<IOptions<FileOptions>>().Value.MaxFileBytes;
        var files = app.MapGroup("/files").MapCollection(FileTables.Files, createAndDelete: false, "File");
        // the request may carry one largest file and its form fields; the spool refuses a larger file itself (413)
        files.MapPost("", UploadAsync).WithName("UploadFiles").WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(limit + 1024 * 1024));
        files.MapPost("/import", ImportAsync).WithName("ImportFile");
        files.MapDelete("", async ([AsParameters] ItemsRequest r, FileStore store) =>
        {
            var caller = await ItemsWriteApi.CallerAsync(r);
            await store.DeleteAsync(await ItemsWriteApi.DeleteTargetsAsync(FileTables.Files, caller, r), caller, r.Writer, r.Reader, r.Aborted);
            return Results.NoContent();
        }).WithName("DeleteFiles");
        files.MapDelete("/{id}", async (string id, [AsParameters] ItemsRequest r, FileStore store) =>
        {
            await store.DeleteAsync([JsonValue.Create(id)], await ItemsWriteApi.CallerAsync(r), r.Writer, r.Reader, r.Aborted);
            return Results.NoContent();
        }).WithName("DeleteFile");

        app.MapGroup("/folders").MapCollection(FileTables.Folders, createAndDelete: true, "Folder");
        return app;
    }

    /// <summary><c>POST /files</c>: every file part of the form becomes a file, with the text fields sent before it; one file answers an object, several a list.</summary>
    private static async Task<IResult> UploadAsync([AsParameters] ItemsRequest r, FileStore store)
    {
        var caller = FileStore.RequireCreator(await ItemsWriteApi.CallerAsync(r));
        var request = r.Context.Request;
        var boundary = MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) && mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            ? HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value : null;
        if (string.IsNullOrEmpty(boundary)) throw FileErrors.NotMultipart();

        var received = new List<IncomingFile>();
        try
        {
            try
            {
                await ReadFormAsync(new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024 }, received, store, r.Aborted);
            }
            catch (Exception e) when (e is InvalidDataException or IOException and not BadHttpRequestException)
            {
                throw DirectusException.InvalidPayload("The multipart body could not be read");
            }
            if (received.Count == 0) throw DirectusException.InvalidPayload("No file was included in the body", "file");
            var keys = await store.CreateAsync(received, caller, r.Writer, r.Aborted);
            return await ItemsWriteApi.ReadBackAsync(FileTables.Files, keys, one: keys.Count == 1, caller, r);
        }
        finally
        {
            foreach (var file in received) file.Dispose();
        }
    }

    /// <summary><c>POST /files/import</c> with <c>{"url": …, "data": {…}}</c>: the download becomes a file as an upload would (<see cref="ImportClient"/> guards the addresses).</summary>
    private static async Task<IResult> ImportAsync([AsParameters] ItemsRequest r, FileStore store)
    {
        var body = await JsonBody.ReadObjectAsync(r.Context.Request, r.Aborted);
        var url = body["url"] is JsonValue u && u.GetValueKind() == System.Text.Json.JsonValueKind.String ? u.GetValue<string>()
            : throw DirectusException.InvalidPayload("\"url\" is required", "url");
        var data = body["data"] switch
        {
            null => new JsonObject(),
            JsonObject given => given,
            _ => throw DirectusException.InvalidPayload("\"data\" must be an object of file fields", "data"),
        };
        var caller = await ItemsWriteApi.CallerAsync(r);
        var keys = await store.ImportAsync([(url, data)], caller, r.Writer, r.Aborted);
        return await ItemsWriteApi.ReadBackAsync(FileTables.Files, keys, one: true, caller, r);
    }

    /// <summary>Receives every file of the form into <paramref name="received"/>, each with the text fields sent before it.</summary>
    private static async Task ReadFormAsync(MultipartReader reader, List<IncomingFile> received, FileStore store, CancellationToken ct)
    {
        var fields = new JsonObject();
        MultipartSection? section;
        while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                throw DirectusException.InvalidPayload("Every part of the form needs a Content-Disposition: form-data header");
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (disposition.IsFileDisposition())
            {
                var filename = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                received.Add(await store.ReceiveAsync(section.Body, filename, section.ContentType, (JsonObject)fields.DeepClone(), ct));
                continue;
            }
            if (name.Length == 0) throw DirectusException.InvalidPayload("Every field of the form needs a name");
            using var text = new StreamReader(section.Body);
            fields[name] = await ReadLimitedAsync(text, name, ct);
        }
    }

    private static async Task<string> ReadLimitedAsync(StreamReader text, string name, CancellationToken ct)
    {
        var buffer = new char[64 * 1024 + 1];
        var length = await text.ReadBlockAsync(buffer.AsMemory(), ct);
        return length <= 64 * 1024 ? new string(buffer, 0, length)
            : throw DirectusException.InvalidPayload($"Form field \"{name}\" is longer than 64 KiB", name);
    }
}
