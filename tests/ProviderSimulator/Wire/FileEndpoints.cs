using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace AiAssistant.ProviderSimulator.Wire;

/// <summary>
/// The providers' file APIs: OpenAI's and Anthropic's <c>POST /v1/files</c> (multipart; told apart by Anthropic's
/// <c>anthropic-version</c> header, which also needs <c>anthropic-beta: files-api-2025-04-14</c>; OpenAI needs
/// <c>purpose</c>), and Gemini's resumable upload (<c>POST /upload/v1beta/files</c> with <c>X-Goog-Upload-Command:
/// start</c> answers an upload URL; <c>upload, finalize</c> there answers the file). What each stored is in <see cref="Uploads"/>.
/// </summary>
internal sealed class FileEndpoints
{
    private readonly ConcurrentDictionary<string, (string Name, string MimeType, long Length)> sessions = new();

    /// <summary>Every file taken, by the id (or Gemini URI) it was given.</summary>
    public ConcurrentDictionary<string, SimulatedFile> Uploads { get; } = new();

    public async Task MultipartAsync(HttpContext context, byte[] body)
    {
        var anthropic = context.Request.Headers.ContainsKey("anthropic-version");
        if (anthropic && !context.Request.Headers["anthropic-beta"].ToString().Contains("files-api-2025-04-14", StringComparison.Ordinal))
        {
            await Error(context, 400, "The Files API is in beta: send anthropic-beta: files-api-2025-04-14.");
            return;
        }
        var (fields, file) = await ReadMultipartAsync(context.Request, body);
        if (file is null)
        {
            await Error(context, 400, "No file in the form.");
            return;
        }
        if (!anthropic && fields.GetValueOrDefault("purpose") != "user_data")
        {
            await Error(context, 400, "purpose must be one of assistants, batch, fine-tune, vision, user_data, evals.");
            return;
        }
        var id = (anthropic ? "file_" : "file-") + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        Uploads[id] = file with { Provider = anthropic ? "anthropic" : "openai" };
        var created = DateTimeOffset.UtcNow;
        await JsonResponse.WriteAsync(context.Response, 200, json =>
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            if (anthropic)
            {
                json.WriteString("type", "file");
                json.WriteString("filename", file.Name);
                json.WriteString("mime_type", file.MimeType);
                json.WriteNumber("size_bytes", file.Content.Length);
                json.WriteString("created_at", created);
                json.WriteBoolean("downloadable", false);
            }
            else
            {
                json.WriteString("object", "file");
                json.WriteNumber("bytes", file.Content.Length);
                json.WriteNumber("created_at", created.ToUnixTimeSeconds());
                json.WriteString("filename", file.Name);
                json.WriteString("purpose", "user_data");
                json.WriteNumber("expires_at", created.AddDays(30).ToUnixTimeSeconds());
                json.WriteString("status", "processed");
            }
            json.WriteEndObject();
        });
    }

    public async Task GeminiUploadAsync(HttpContext context, byte[] body)
    {
        var request = context.Request;
        var command = request.Headers["X-Goog-Upload-Command"].ToString();
        if (command == "start")
        {
            if (request.Headers["X-Goog-Upload-Protocol"] != "resumable"
                || !long.TryParse(request.Headers["X-Goog-Upload-Header-Content-Length"], out var length))
            {
                await Error(context, 400, "A resumable upload starts with X-Goog-Upload-Protocol: resumable and the file's length.");
                return;
            }
            var name = "file";
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("file", out var f) && f.TryGetProperty("display_name", out var n)) name = n.GetString() ?? name;
            }
            catch (JsonException) { }
            var session = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            sessions[session] = (name, request.Headers["X-Goog-Upload-Header-Content-Type"].ToString(), length);
            context.Response.Headers["X-Goog-Upload-URL"] = $"{request.Scheme}://{request.Host}/upload/v1beta/files?upload_id={session}";
            context.Response.Headers["X-Goog-Upload-Status"] = "active";
            context.Response.StatusCode = 200;
            return;
        }
        if (command != "upload, finalize" || request.Headers["X-Goog-Upload-Offset"] != "0"
            || !sessions.TryRemove(request.Query["upload_id"].ToString(), out var started))
        {
            await Error(context, 400, "No upload session to finalize.");
            return;
        }
        if (body.Length != started.Length)
        {
            await Error(context, 400, $"The upload has {body.Length} bytes; {started.Length} were announced.");
            return;
        }
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var uri = $"{request.Scheme}://{request.Host}/v1beta/files/{id}";
        Uploads[uri] = new SimulatedFile("google", started.Name, started.MimeType, body);
        var now = DateTimeOffset.UtcNow;
        await JsonResponse.WriteAsync(context.Response, 200, json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("file");
            json.WriteString("name", $"files/{id}");
            json.WriteString("displayName", started.Name);
            json.WriteString("mimeType", started.MimeType);
            json.WriteString("sizeBytes", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("createTime", now);
            json.WriteString("expirationTime", now.AddHours(48));
            json.WriteString("uri", uri);
            json.WriteString("state", "ACTIVE");
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    private static async Task<(Dictionary<string, string> Fields, SimulatedFile? File)> ReadMultipartAsync(HttpRequest request, byte[] body)
    {
        var fields = new Dictionary<string, string>();
        SimulatedFile? file = null;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary)
            return (fields, null);
        var reader = new MultipartReader(boundary, new MemoryStream(body));
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
            using var content = new MemoryStream();
            await section.Body.CopyToAsync(content);
            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (disposition.FileName.HasValue || disposition.FileNameStar.HasValue)
                file = new SimulatedFile("", HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? disposition.FileNameStar.Value ?? "file",
                    section.ContentType ?? "application/octet-stream", content.ToArray());
            else fields[name] = System.Text.Encoding.UTF8.GetString(content.ToArray());
        }
        return (fields, file);
    }

    private static Task Error(HttpContext context, int status, string message) =>
        JsonResponse.WriteErrorAsync(context.Response, new SimulatedError(status, message, "invalid_request_error", null));
}

/// <summary>A file a provider's file API took: which provider, its name and type as sent, its bytes.</summary>
public sealed record SimulatedFile(string Provider, string Name, string MimeType, byte[] Content);
