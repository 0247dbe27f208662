using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Query;
using Microsoft.Extensions.Options;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// A file received and not yet stored: its bytes in a temporary file (within the size limit), what they are, and the
/// metadata the caller sent with them.
/// </summary>
public sealed class IncomingFile(string temporaryPath, string type, long size, (int Width, int Height)? image, string filename, JsonObject payload) : IDisposable
{
    public string TemporaryPath => temporaryPath;
    public string Type => type;
    public long Size => size;
    public (int Width, int Height)? Image => image;
    public string FileName => filename;
    public JsonObject Payload => payload;

    public void Dispose() => File.Delete(temporaryPath);
}

/// <summary>
/// Files as rows and bytes together. A file's row (<c>directus_files</c>, written by <see cref="ItemsWrite"/> under the
/// caller's create grant, with activity and revision) and its bytes (<see cref="IFileStorage"/>, key = id + extension
/// of the detected type) are written in one transaction: a failure rolls the rows back and deletes the bytes already
/// stored, so nothing is left half-written.
/// </summary>
public sealed class FileStore(IFileStorage storage, ImportClient importer, IOptions<FileOptions> options, ILogger<FileStore> logger)
{
    private readonly FileOptions _options = options.Value;

    /// <summary>The caller, refused before any byte is read or fetched when it may not create files at all.</summary>
    public static WriteCaller RequireCreator(WriteCaller caller) =>
        caller.Permissions.Action(FileTables.Files, "create") is null ? throw DirectusException.Forbidden() : caller;

    /// <summary>
    /// Imports: downloads every URL (<see cref="ImportClient"/> guards the addresses) with the file fields given for it,
    /// then creates all the files in one transaction, so an import of several is whole or nothing; answers their keys.
    /// </summary>
    public async Task<IReadOnlyList<JsonNode>> ImportAsync(IReadOnlyList<(string Url, JsonObject Data)> imports, WriteCaller caller, ItemsWriter writer,
        CancellationToken ct)
    {
        RequireCreator(caller);
        var received = new List<IncomingFile>();
        try
        {
            foreach (var (url, data) in imports)
                await using (var download = await importer.GetAsync(url, ct))
                    received.Add(await ReceiveAsync(download.Body, download.FileName, download.MediaType, (JsonObject)data.DeepClone(), ct));
            return await CreateAsync(received, caller, writer, ct);
        }
        finally
        {
            foreach (var file in received) file.Dispose();
        }
    }

    /// <summary>
    /// The whole row of the file <paramref name="id"/> when the caller's read grant admits it; otherwise (an unknown id
    /// too) 403, as the items read answers.
    /// </summary>
    public static async Task<JsonObject> ReadableAsync(string id, ItemsService items, ItemsReader reader, ICollectionAccess access, QueryContext context,
        CancellationToken ct)
    {
        if (!Guid.TryParse(id, out _)) throw DirectusException.Forbidden();
        await items.ReadOneAsync(FileTables.Files, JsonValue.Create(id), ItemQuery.Default, access, context, ct);
        return (await RowsAsync([JsonValue.Create(id)], reader, ct)).Single();
    }

    /// <summary>
    /// The bytes of the file whose row is <paramref name="row"/>, and their type; with <paramref name="transform"/>, the
    /// transformed image instead, made once and kept beside the original (<c>transforms/&lt;id&gt;/…</c>).
    /// </summary>
    public async Task<(Stream Content, string Type)> OpenAsync(JsonObject row, ImageTransform? transform, CancellationToken ct)
    {
        var type = row["type"]?.GetValue<string>() ?? "application/octet-stream";
        var key = row["filename_disk"]?.GetValue<string>() ?? throw DirectusException.Forbidden();
        if (transform is null) return (storage.OpenRead(key) ?? throw DirectusException.Forbidden(), type);
        if (!Images.IsTransformable(type)) throw FileErrors.NotTransformable(type);
        var cached = $"{TransformFolder(row["id"]!.GetValue<string>())}/{transform.Key(type)}";
        var content = storage.OpenRead(cached);
        if (content is null)
        {
            await using (var original = storage.OpenRead(key) ?? throw DirectusException.Forbidden())
            {
                var bytes = Images.Transform(original, type, transform, _options.MaxTransformDimension, _options.MaxImagePixels);
                await storage.PutAsync(cached, new MemoryStream(bytes), ct);
            }
            content = storage.OpenRead(cached) ?? throw DirectusException.Forbidden();
        }
        return (content, ImageTransform.MediaType(transform.OutputFormat(type)));
    }

    /// <summary>
    /// Spools <paramref name="content"/> to a temporary file, refusing more than <see cref="FileOptions.MaxFileBytes"/>
    /// (413), and finds its type (detected for images, else <paramref name="declaredType"/>) and an image's size.
    /// </summary>
    public async Task<IncomingFile> ReceiveAsync(Stream content, string? filename, string? declaredType, JsonObject payload, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetFullPath(_options.Root), ".incoming");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, Guid.NewGuid().ToString("N"));
        try
        {
            var head = new byte[16];
            var headLength = 0;
            long size = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    size += read;
                    if (size > _options.MaxFileBytes) throw FileErrors.TooLarge(_options.MaxFileBytes);
                    if (headLength < head.Length)
                    {
                        var take = Math.Min(head.Length - headLength, read);
                        buffer.AsSpan(0, take).CopyTo(head.AsSpan(headLength));
                        headLength += take;
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }
            var type = FileNames.DetectType(head.AsSpan(0, headLength), declaredType);
            (int, int)? image = null;
            if (Images.IsTransformable(type))
                await using (var read = File.OpenRead(path))
                    image = Images.Size(read);
            return new IncomingFile(path, type, size, image, FileNames.Sanitise(filename), payload);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Creates the rows and stores the bytes of <paramref name="files"/>, all or none; answers their keys.</summary>
    public async Task<IReadOnlyList<JsonNode>> CreateAsync(IReadOnlyList<IncomingFile> files, WriteCaller caller, ItemsWriter writer, CancellationToken ct)
    {
        var stored = new List<string>();
        try
        {
            return await writer.WriteAsync(caller, async write =>
            {
                var keys = new List<JsonNode>();
                foreach (var file in files)
                {
                    var id = Guid.NewGuid().ToString();
                    var key = id + FileNames.Extension(file.Type);
                    var payload = (JsonObject)file.Payload.DeepClone();
                    payload["filename_download"] = FileNames.Sanitise(payload["filename_download"]?.GetValueKind() == System.Text.Json.JsonValueKind.String
                        ? payload["filename_download"]!.GetValue<string>() : file.FileName);
                    if (payload["title"] is null) payload["title"] = FileNames.Title(file.FileName);
                    var system = new JsonObject
                    {
                        ["id"] = id, ["storage"] = storage.Name, ["filename_disk"] = key, ["type"] = file.Type, ["filesize"] = file.Size,
                        ["width"] = file.Image?.Width, ["height"] = file.Image?.Height,
                    };
                    keys.Add(await write.CreateAsync(FileTables.Files, payload, system));
                    stored.Add(key);
                    await using var bytes = File.OpenRead(file.TemporaryPath);
                    await storage.PutAsync(key, bytes, ct);
                }
                return keys;
            }, ct);
        }
        catch
        {
            foreach (var key in stored) await ForgetAsync(key);
            throw;
        }
    }

    /// <summary>Deletes the files with <paramref name="keys"/> under the caller's delete grant, then their bytes and cached transforms.</summary>
    public async Task DeleteAsync(IReadOnlyList<JsonNode> keys, WriteCaller caller, ItemsWriter writer, ItemsReader reader, CancellationToken ct)
    {
        var rows = await RowsAsync(keys, reader, ct);
        await writer.WriteAsync(caller, write => write.DeleteAsync(FileTables.Files, keys), ct);
        foreach (var row in rows)
        {
            if (row["filename_disk"]?.GetValue<string>() is { } disk) await ForgetAsync(disk);
            await ForgetAsync(TransformFolder(row["id"]!.GetValue<string>()));
        }
    }

    /// <summary>Every column of the files with <paramref name="keys"/>, read past permissions (the caller's were checked already).</summary>
    public static async Task<IReadOnlyList<JsonObject>> RowsAsync(IReadOnlyList<JsonNode> keys, ItemsReader reader, CancellationToken ct)
    {
        var query = new ItemQuery
        {
            Fields = ["*"], Limit = -1,
            Filter = new FieldCondition("id", FilterOperator.In, new JsonArray(keys.Select(k => k.DeepClone()).ToArray())),
        };
        var page = await reader.ReadAsync(FileTables.Files, query, FullAccess.Instance, reader.Context(null, null, []), ct);
        return page.Items.OfType<JsonObject>().ToList();
    }

    /// <summary>The storage folder of a file's cached transforms.</summary>
    public static string TransformFolder(string fileId) => $"transforms/{fileId}";

    private async Task ForgetAsync(string key)
    {
        try
        {
            await storage.DeleteAsync(key, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Stored bytes {Key} not deleted ({ExceptionType})", key, e.GetType().Name);
        }
    }
}
