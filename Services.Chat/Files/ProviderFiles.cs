using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Chat.Providers;

namespace AiAssistant.Services.Chat.Files;

/// <summary>What <c>POST /ai/files</c> answers, as the reference's <c>ProviderFileRef</c>.</summary>
public sealed record ProviderFileRef(string Provider, string FileId, string Filename, string MimeType, long SizeBytes, DateTimeOffset? ExpiresAt);

/// <summary>A file to upload: its bytes, as the browser named and typed it.</summary>
public sealed record UploadedFile(string Filename, string MimeType, byte[] Content);

/// <summary>
/// Uploads a file to a provider's own file API, as the reference's <c>files/adapters/*</c> do: OpenAI <c>POST /files</c>
/// (<c>purpose=user_data</c>, Bearer key), Anthropic <c>POST /files</c> (<c>x-api-key</c>, <c>anthropic-version</c>,
/// <c>anthropic-beta: files-api-2025-04-14</c>), Gemini's resumable upload (<c>start</c>, then <c>upload, finalize</c>;
/// the file's URI is its id). Through the provider HTTP client, so a refusal before the answer is retried; 120 s at most.
/// A provider's refusal is a 502 whose message holds no part of the key.
/// </summary>
public sealed class ProviderFiles(IHttpClientFactory http, IConfiguration configuration)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    public const string AnthropicVersion = "2023-06-01";
    public const string AnthropicFilesBeta = "files-api-2025-04-14";

    public async Task<ProviderFileRef> UploadAsync(string provider, string apiKey, UploadedFile file, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        var client = http.CreateClient(ProviderChatClients.HttpClientName);
        var baseUrl = ProviderTypes.BaseUrl(provider, configuration);
        try
        {
            return provider switch
            {
                ProviderTypes.OpenAi => await OpenAiAsync(client, baseUrl, apiKey, file, timeout.Token),
                ProviderTypes.Anthropic => await AnthropicAsync(client, baseUrl, apiKey, file, timeout.Token),
                _ => await GeminiAsync(client, baseUrl, apiKey, file, timeout.Token),
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw Failed(provider, $"{provider} did not take the file within {Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            throw Failed(provider, $"Cannot reach {provider} at {baseUrl.Authority} ({e.HttpRequestError})");
        }
    }

    private async Task<ProviderFileRef> OpenAiAsync(HttpClient client, Uri baseUrl, string apiKey, UploadedFile file, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Under(baseUrl, "files"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        request.Content = new MultipartFormDataContent { { new StringContent("user_data"), "purpose" }, { FilePart(file), "file", file.Filename } };
        var answer = await SendAsync(client, request, ProviderTypes.OpenAi, apiKey, ct);
        return new ProviderFileRef(ProviderTypes.OpenAi, Text(answer, "id", ProviderTypes.OpenAi), file.Filename, file.MimeType,
            answer["bytes"]?.GetValue<long>() ?? file.Content.Length,
            answer["expires_at"] is JsonValue at && at.TryGetValue<long>(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null);
    }

    private async Task<ProviderFileRef> AnthropicAsync(HttpClient client, Uri baseUrl, string apiKey, UploadedFile file, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Under(baseUrl, "files"));
        request.Headers.Add("x-api-key", apiKey);
        request.Headers.Add("anthropic-version", AnthropicVersion);
        request.Headers.Add("anthropic-beta", AnthropicFilesBeta);
        request.Content = new MultipartFormDataContent { { FilePart(file), "file", file.Filename } };
        var answer = await SendAsync(client, request, ProviderTypes.Anthropic, apiKey, ct);
        return new ProviderFileRef(ProviderTypes.Anthropic, Text(answer, "id", ProviderTypes.Anthropic), file.Filename, file.MimeType,
            answer["size_bytes"]?.GetValue<long>() ?? file.Content.Length, null);
    }

    private async Task<ProviderFileRef> GeminiAsync(HttpClient client, Uri baseUrl, string apiKey, UploadedFile file, CancellationToken ct)
    {
        // https://host/v1beta → https://host/upload/v1beta/files
        var upload = new Uri(baseUrl, "/upload" + baseUrl.AbsolutePath.TrimEnd('/') + "/files");
        using var start = new HttpRequestMessage(HttpMethod.Post, upload);
        start.Headers.Add("x-goog-api-key", apiKey);
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        start.Headers.Add("X-Goog-Upload-Header-Content-Length", file.Content.Length.ToString(CultureInfo.InvariantCulture));
        start.Headers.Add("X-Goog-Upload-Header-Content-Type", file.MimeType);
        start.Content = JsonContent(new JsonObject { ["file"] = new JsonObject { ["display_name"] = file.Filename } });
        Uri session;
        using (var started = await client.SendAsync(start, ct))
        {
            if (!started.IsSuccessStatusCode) throw await RefusedAsync(started, ProviderTypes.Google, apiKey, ct);
            session = started.Headers.TryGetValues("X-Goog-Upload-URL", out var urls) && Uri.TryCreate(urls.First(), UriKind.Absolute, out var url)
                ? url : throw Failed(ProviderTypes.Google, "google started no upload session (no X-Goog-Upload-URL)");
        }
        using var finish = new HttpRequestMessage(HttpMethod.Post, session);
        finish.Headers.Add("x-goog-api-key", apiKey);
        finish.Headers.Add("X-Goog-Upload-Command", "upload, finalize");
        finish.Headers.Add("X-Goog-Upload-Offset", "0");
        finish.Content = new ByteArrayContent(file.Content);
        finish.Content.Headers.ContentType = new MediaTypeHeaderValue(file.MimeType);
        var answer = (await SendAsync(client, finish, ProviderTypes.Google, apiKey, ct))["file"] as JsonObject
            ?? throw Failed(ProviderTypes.Google, "google answered the upload without a file");
        return new ProviderFileRef(ProviderTypes.Google, Text(answer, "uri", ProviderTypes.Google), file.Filename,
            answer["mimeType"]?.GetValue<string>() ?? file.MimeType,
            long.TryParse(answer["sizeBytes"]?.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : file.Content.Length,
            DateTimeOffset.TryParse(answer["expirationTime"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires) ? expires : null);
    }

    private static async Task<JsonObject> SendAsync(HttpClient client, HttpRequestMessage request, string provider, string apiKey, CancellationToken ct)
    {
        using var response = await client.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode) throw await RefusedAsync(response, provider, apiKey, ct);
        try
        {
            return JsonNode.Parse(await response.Content.ReadAsStringAsync(ct)) as JsonObject ?? throw new JsonException();
        }
        catch (JsonException)
        {
            throw Failed(provider, $"{provider} sent an answer that could not be read");
        }
    }

    private static async Task<DirectusException> RefusedAsync(HttpResponseMessage response, string provider, string apiKey, CancellationToken ct)
    {
        var message = ProviderErrorChatClient.ErrorMessage(await response.Content.ReadAsStringAsync(ct));
        return Failed(provider, $"{provider} answered {(int)response.StatusCode}: {ProviderErrorChatClient.Scrub(message, apiKey)}");
    }

    private static DirectusException Failed(string provider, string message) =>
        new(StatusCodes.Status502BadGateway, ErrorCodes.ServiceUnavailable, $"The file was not uploaded. {message}.",
            new Dictionary<string, object?> { ["service"] = provider });

    private static string Text(JsonObject answer, string name, string provider) =>
        answer[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : throw Failed(provider, $"{provider} answered without a file {name}");

    private static Uri Under(Uri baseUrl, string path) => new(baseUrl.AbsoluteUri.TrimEnd('/') + "/" + path);

    private static ByteArrayContent FilePart(UploadedFile file)
    {
        var part = new ByteArrayContent(file.Content);
        part.Headers.ContentType = new MediaTypeHeaderValue(file.MimeType);
        return part;
    }

    private static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
}
