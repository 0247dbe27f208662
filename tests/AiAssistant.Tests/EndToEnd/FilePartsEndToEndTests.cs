using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.ProviderSimulator;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// A UI <c>file</c> part with <c>providerMetadata.directus.fileId</c> (what <c>POST /ai/files</c> answered) reaches the
/// model as that provider's own file reference; a file part without one is left out.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class FilePartsEndToEndTests(EndToEndFixture e2e)
{
    [Theory]
    [InlineData("openai", "gpt-5.4-mini")]
    [InlineData("anthropic", "claude-sonnet-4-6")]
    [InlineData("google", "gemini-2.5-flash")]
    public async Task An_uploaded_file_reaches_the_model_as_the_providers_file(string provider, string model)
    {
        await e2e.EnableBuiltInProviderAsync(provider, model);
        using var form = new MultipartFormDataContent { { new StringContent(provider), "provider" } };
        var pdf = new ByteArrayContent("%PDF-1.4 a test"u8.ToArray());
        pdf.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        form.Add(pdf, "file", "report.pdf");
        using var uploaded = await e2e.Gateway.PostAsync("/ai/files", form);
        var fileId = JsonNode.Parse(await uploaded.Content.ReadAsStringAsync())!["fileId"]!.GetValue<string>();

        e2e.Simulator.ClearRequests();
        var probe = "Summarise the report " + Guid.NewGuid();
        e2e.Simulator.Enqueue(SimulatedReply.Text("It is short."));
        var stream = await EndToEndFixture.ChatAsync(e2e.Gateway, new
        {
            provider, model, tools = Array.Empty<string>(),
            messages = new object[]
            {
                new
                {
                    id = "m1", role = "user",
                    parts = new object[]
                    {
                        new { type = "text", text = probe },
                        new { type = "file", mediaType = "application/pdf", filename = "report.pdf", url = "blob:report", providerMetadata = new { directus = new { fileId, provider } } },
                        new { type = "file", mediaType = "image/png", filename = "pasted.png", url = "data:image/png;base64,iVBORw0KGgo=" },
                    },
                },
            },
        });
        Assert.Equal("It is short.", stream.Text);
        var request = Assert.Single(e2e.Simulator.Requests, r => r.Body.Contains(probe, StringComparison.Ordinal));
        Assert.DoesNotContain("iVBORw0KGgo", request.Body, StringComparison.Ordinal); // the part without a file id is left out
        var body = JsonNode.Parse(request.Body)!;
        switch (provider)
        {
            case "openai":
                var parts = body["input"]!.AsArray().SelectMany(i => i!["content"] as JsonArray ?? []).ToList();
                Assert.Contains(parts, p => p!["type"]!.GetValue<string>() == "input_file" && p["file_id"]?.GetValue<string>() == fileId);
                break;
            case "anthropic":
                var blocks = body["messages"]![0]!["content"]!.AsArray();
                Assert.Contains(blocks, b => b!["type"]!.GetValue<string>() == "document"
                    && b["source"]!["type"]!.GetValue<string>() == "file" && b["source"]!["file_id"]!.GetValue<string>() == fileId);
                Assert.Contains("files-api-2025-04-14", request.Headers["anthropic-beta"], StringComparison.Ordinal);
                break;
            default:
                var data = body["contents"]![0]!["parts"]!.AsArray().Single(p => p!["fileData"] is not null)!["fileData"]!;
                Assert.Equal((fileId, "application/pdf"), (data["fileUri"]!.GetValue<string>(), data["mimeType"]!.GetValue<string>()));
                break;
        }
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(request.Body, System.Text.RegularExpressions.Regex.Escape(fileId)));
    }
}
