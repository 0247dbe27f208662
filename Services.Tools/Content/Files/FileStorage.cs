using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace AiAssistant.Services.Tools.Content.Files;

/// <summary>
/// Where a file's bytes live, by key. Keys are made by the store (a file id, an extension from the detected type, the
/// transform cache's own names), never from a name a caller gave.
/// </summary>
public interface IFileStorage
{
    /// <summary>The driver's name, stored in <c>directus_files.storage</c>.</summary>
    string Name { get; }

    /// <summary>Writes <paramref name="content"/> under <paramref name="key"/>, replacing what was there; answers the bytes written.</summary>
    Task<long> PutAsync(string key, Stream content, CancellationToken ct);

    /// <summary>The bytes under <paramref name="key"/> as a seekable stream, or null when there are none.</summary>
    Stream? OpenRead(string key);

    /// <summary>Removes <paramref name="key"/>, and everything under it when it names a folder (<c>transforms/&lt;id&gt;</c>).</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}

/// <summary>The local-disk driver: every key is a path under <see cref="FileOptions.Root"/>, written through a temporary name and renamed, so a reader never sees half a file.</summary>
public sealed partial class LocalFileStorage(IOptions<FileOptions> options) : IFileStorage
{
    private readonly string _root = Path.GetFullPath(options.Value.Root);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")]
    private static partial Regex Key();

    public string Name => "local";

    public async Task<long> PutAsync(string key, Stream content, CancellationToken ct)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.part";
        try
        {
            long length;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await content.CopyToAsync(file, ct);
                length = file.Length;
            }
            File.Move(temporary, path, overwrite: true);
            return length;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public Stream? OpenRead(string key)
    {
        try
        {
            return new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else File.Delete(path);
        return Task.CompletedTask;
    }

    /// <summary>A key as a path under the root: the pattern leaves no room for <c>..</c>, absolute paths or separators of another kind.</summary>
    private string PathOf(string key)
    {
        if (!Key().IsMatch(key) || key.Split('/').Any(part => part.StartsWith('.')))
            throw new ArgumentException($"Not a storage key: {key}", nameof(key));
        var path = Path.GetFullPath(Path.Combine(_root, key));
        return path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? path : throw new ArgumentException($"Not a storage key: {key}", nameof(key));
    }
}
