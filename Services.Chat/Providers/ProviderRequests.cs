using Anthropic.Models.Messages;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>
/// What each provider's request gets beyond the conversation, as the reference's <c>create-ui-stream.ts</c>,
/// <c>prompt-caching.ts</c> and <c>providers/options.ts</c> decide it: the system prompt and context block, Anthropic's
/// cache breakpoints, and the reasoning options of models the catalog marks as reasoning.
/// </summary>
public static class ProviderRequests
{
    public static void Shape(ConfiguredProvider provider, string model, List<ChatMessage> messages, ChatOptions options, string system, string contextBlock)
    {
        var entry = provider.Config.Models.FirstOrDefault(m => m.Id == model);
        if (provider.Config.Type != ProviderTypes.Anthropic)
        {
            options.Instructions = system + contextBlock;
            if (entry is { Reasoning: true }) options.Reasoning = new ReasoningOptions { Output = ReasoningOutput.Summary };
            return;
        }

        // Anthropic: breakpoints after the system prompt and after the last message; the context block, which changes
        // from turn to turn, follows the last one as its own user message so that it stays out of the cached prefix.
        var ephemeral = new CacheControlEphemeral();
        var last = messages[^1];
        last.Contents[^1].WithCacheControl(ephemeral);
        if (contextBlock.Length > 0 && last.Role == ChatRole.User) messages.Add(new ChatMessage(ChatRole.User, contextBlock.TrimStart()));
        else if (contextBlock.Length > 0) system += contextBlock;
        messages.Insert(0, new ChatMessage(ChatRole.System, [new TextContent(system).WithCacheControl(ephemeral)]));
        // the SDK would ask for 1024 tokens at most; the AI SDK asks for the model's own limit
        if (entry is { Output: > 0 }) options.MaxOutputTokens = entry.Output;
        // extended thinking where the model has it: the SDK's adaptive thinking at the model's default effort
        if (entry is { Reasoning: true }) options.Reasoning = new ReasoningOptions();
    }
}
