using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// <c>POST /ai/files</c> through the gateway to each provider's simulated file API: the provider's own upload protocol
/// and auth headers, the reference's answer, the bytes as sent, and every refusal in the envelope.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class FileUploadEndToEndTests(EndToEndFixture e2e)
{
    [Theory]
    [InlineData("openai", "gpt-5.4-mini")]
    [InlineData("anthropic", "claude-sonnet-4-6")]
    [InlineData("google", "gemini-2.5-flash")]
    public async Task A_file_reaches_the_providers_file_api_and_its_reference_comes_back(string provider, string model)
    {
        var key = await e2e.EnableBuiltInProviderAsync(provider, model);
        e2e.Simulator.ClearRequests();
        var bytes = RandomNumberGenerator.GetBytes(70_000);

        using var response = await e2e.Gateway.PostAsync("/ai/files", Form(provider, bytes, "scan.pdf", "application/pdf"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /ai/files answered {(int)response.StatusCode}: {text}");
        var answer = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(["provider", "fileId", "filename", "mimeType", "sizeBytes", "expiresAt"], answer.Select(p => p.Key));
        Assert.Equal((provider, "scan.pdf", "application/pdf", 70_000L), (answer["provider"]!.GetValue<string>(), answer["filename"]!.GetValue<string>(),
            answer["mimeType"]!.GetValue<string>(), answer["sizeBytes"]!.GetValue<long>()));
        var fileId = answer["fileId"]!.GetValue<string>();
        var stored = e2e.Simulator.Uploads[fileId];
        Assert.Equal(bytes, stored.Content);
        Assert.Equal((provider, "application/pdf"), (stored.Provider, stored.MimeType));

        var requests = e2e.Simulator.Requests;
        switch (provider)
        {
            case "openai":
                Assert.StartsWith("file-", fileId);
                Assert.NotNull(answer["expiresAt"]);
                var openai = Assert.Single(requests);
                Assert.Equal("/v1/files", openai.Path);
                Assert.Equal($"Bearer {key}", openai.Headers["Authorization"]);
                break;
            case "anthropic":
                Assert.StartsWith("file_", fileId);
                Assert.Null(answer["expiresAt"]);
                var anthropic = Assert.Single(requests);
                Assert.Equal("/v1/files", anthropic.Path);
                Assert.Equal(key, anthropic.Headers["x-api-key"]);
                Assert.Equal("files-api-2025-04-14", anthropic.Headers["anthropic-beta"]);
                Assert.Equal("2023-06-01", anthropic.Headers["anthropic-version"]);
                Assert.False(anthropic.Headers.ContainsKey("Authorization"));
                break;
            default:
                // the file's URI is its id, and its expiry is Gemini's expirationTime
                Assert.Contains("/v1beta/files/", fileId);
                Assert.NotNull(answer["expiresAt"]);
                Assert.Equal(2, requests.Count);
                Assert.All(requests, r => Assert.Equal(key, r.Headers["x-goog-api-key"]));
                Assert.Equal(["start", "upload, finalize"], requests.Select(r => r.Headers["X-Goog-Upload-Command"]));
                Assert.Equal("70000", requests[0].Headers["X-Goog-Upload-Header-Content-Length"]);
                break;
        }
        Assert.DoesNotContain(key, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_uploads_are_refused_in_the_envelope()
    {
        await e2e.EnableBuiltInProviderAsync("openai", "gpt-5.4-mini");
        var png = RandomNumberGenerator.GetBytes(100);
        await RefusedAsync(Form("openai-compatible", png, "a.png", "image/png"), HttpStatusCode.BadRequest, "provider", "not supported for openai-compatible");
        await RefusedAsync(Form("mistral", png, "a.png", "image/png"), HttpStatusCode.BadRequest, "provider", "Unsupported provider: mistral");
        await RefusedAsync(Form("openai", png, "a.zip", "application/zip"), HttpStatusCode.BadRequest, "file", "application/zip");
        await RefusedAsync(new MultipartFormDataContent { { new StringContent("openai"), "provider" } }, HttpStatusCode.BadRequest, "file", "No file provided");
        var noProvider = new MultipartFormDataContent();
        noProvider.Add(File(png, "image/png"), "file", "a.png");
        await RefusedAsync(noProvider, HttpStatusCode.BadRequest, "provider", "No provider");
        using (var json = await e2e.Gateway.PostAsJsonAsync("/ai/files", new { provider = "openai" }))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
            Assert.Equal("UNSUPPORTED_MEDIA_TYPE", await EndToEndFixture.ErrorCodeAsync(json));
        }
        // just over 50 MB: refused by Chat, naming the file, nothing sent on
        e2e.Simulator.ClearRequests();
        await RefusedAsync(Form("openai", new byte[50 * 1024 * 1024 + 10], "big.pdf", "application/pdf"), HttpStatusCode.BadRequest, "file", "maximum size of 50MB");
        Assert.Empty(e2e.Simulator.Requests);
    }

    [Fact]
    public async Task A_provider_without_a_key_is_a_503()
    {
        await e2e.PatchSettingsAsync(new { ai_anthropic_api_key = (string?)null });
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var replica in e2e.ChatReplicas)
            {
                using var direct = e2e.Client(replica.HttpUrl);
                while (true)
                {
                    using var response = await direct.PostAsync("/ai/files", Form("anthropic", [1, 2, 3], "a.txt", "text/plain"));
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        Assert.Equal("SERVICE_UNAVAILABLE", await EndToEndFixture.ErrorCodeAsync(response));
                        break;
                    }
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"replica {replica.Name} still uploads without a key");
                    await Task.Delay(50);
                }
            }
        }
        finally
        {
            await e2e.EnableBuiltInProviderAsync("anthropic", "claude-sonnet-4-6");
        }
    }

    private async Task RefusedAsync(HttpContent form, HttpStatusCode status, string field, string said)
    {
        using var _ = form;
        using var response = await e2e.Gateway.PostAsync("/ai/files", form);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{status} expected, {(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["errors"]![0]!;
        Assert.Equal("INVALID_PAYLOAD", error["extensions"]!["code"]!.GetValue<string>());
        Assert.Equal(field, error["extensions"]!["field"]!.GetValue<string>());
        Assert.Contains(said, error["message"]!.GetValue<string>());
    }

    private static MultipartFormDataContent Form(string provider, byte[] bytes, string name, string mimeType) => new()
    {
        { new StringContent(provider), "provider" },
        { File(bytes, mimeType), "file", name },
    };

    private static ByteArrayContent File(byte[] bytes, string mimeType)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(mimeType);
        return file;
    }
}
