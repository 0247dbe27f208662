using System.Text.Json;
using AiAssistant.Services.Chat.Chat;
using Microsoft.Extensions.AI;
using Xunit;

namespace AiAssistant.Tests.Chat;

/// <summary>UI <c>file</c> parts: the provider's file by its id, or left out and counted.</summary>
public sealed class UiMessageFilesTests
{
    private static Conversation Convert(string parts, string provider)
    {
        using var doc = JsonDocument.Parse($$"""[{"id":"m1","role":"user","parts":[{"type":"text","text":"Look"},{{parts}}]}]""");
        return UiMessages.ToConversation(doc.RootElement, provider);
    }

    [Fact]
    public void A_file_with_an_id_becomes_the_providers_file()
    {
        var conversation = Convert("""
            {"type":"file","mediaType":"image/png","filename":"a.png","url":"blob:x","providerMetadata":{"directus":{"fileId":"file-abc","provider":"openai"}}}
            """, "openai");
        var file = Assert.IsType<HostedFileContent>(Assert.Single(conversation.Messages).Contents[1]);
        Assert.Equal(("file-abc", "image/png", "a.png"), (file.FileId, file.MediaType, file.Name));
        Assert.Equal(0, conversation.DroppedFiles);
    }

    [Theory]
    [InlineData("""{"type":"file","mediaType":"image/png","url":"data:image/png;base64,AAAA"}""")]
    [InlineData("""{"type":"file","mediaType":"image/png","url":"blob:x","providerMetadata":{"directus":{"fileId":""}}}""")]
    [InlineData("""{"type":"file","mediaType":"image/png","url":"blob:x","providerMetadata":{"directus":{"fileId":"file_1","provider":"anthropic"}}}""")]
    [InlineData("""{"type":"file","mediaType":"image/png","url":"blob:x","providerMetadata":{"other":{"fileId":"file-1"}}}""")]
    public void A_file_without_this_providers_id_is_left_out_and_counted(string part)
    {
        var conversation = Convert(part, "openai");
        Assert.IsType<TextContent>(Assert.Single(Assert.Single(conversation.Messages).Contents));
        Assert.Equal(1, conversation.DroppedFiles);
    }
}
