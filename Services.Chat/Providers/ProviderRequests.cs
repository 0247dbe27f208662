using System.Text.Json;
using Anthropic.Models.Messages;
using Microsoft.Extensions.AI;
using OpenAI.Responses;

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
        switch (provider.Config.Type)
        {
            case ProviderTypes.OpenAi:
                options.Instructions = system + contextBlock;
                options.RawRepresentationFactory = _ => OpenAiResponse(entry is { Reasoning: true });
                return;
            case ProviderTypes.Google:
                options.Instructions = system + contextBlock;
                if (entry is { Reasoning: true }) options.Reasoning = new ReasoningOptions { Output = ReasoningOutput.Summary };
                return;
            case ProviderTypes.OpenAiCompatible:
                options.Instructions = system + contextBlock;
                if (entry is { ProviderOptionsJson.Length: > 0 }) options.RawRepresentationFactory = _ => CompatibleOptions(entry.ProviderOptionsJson);
                return;
        }

        // Anthropic: breakpoints after the system prompt and after the last message; the context block, which changes
        // from turn to turn, follows the last one as its own user message so that it stays out of the cached prefix.
        var ephemeral = new CacheControlEphemeral();
        var last = messages.LastOrDefault();
        if (last?.Contents.Count > 0) last.Contents[^1].WithCacheControl(ephemeral);
        if (contextBlock.Length > 0 && last?.Role == ChatRole.User) messages.Add(new ChatMessage(ChatRole.User, contextBlock.TrimStart()));
        else if (contextBlock.Length > 0) system += contextBlock;
        messages.Insert(0, new ChatMessage(ChatRole.System, [new TextContent(system).WithCacheControl(ephemeral)]));
        // the SDK would ask for 1024 tokens at most; the AI SDK asks for the model's own limit
        if (entry is { Output: > 0 }) options.MaxOutputTokens = entry.Output;
        // extended thinking where the model has it: the SDK's adaptive thinking at the model's default effort
        if (entry is { Reasoning: true }) options.Reasoning = new ReasoningOptions();
    }

    /// <summary>
    /// What a <c>/ai/object</c> request gets: no system prompt (the reference's <c>streamObject</c> sends the prompt
    /// alone), OpenAI's stateless options, a compatible model's <c>providerOptions</c>, Anthropic's output limit.
    /// </summary>
    public static void ShapeObject(ConfiguredProvider provider, string model, ChatOptions options)
    {
        var entry = provider.Config.Models.FirstOrDefault(m => m.Id == model);
        switch (provider.Config.Type)
        {
            case ProviderTypes.OpenAi:
                options.RawRepresentationFactory = _ => OpenAiResponse(entry is { Reasoning: true });
                break;
            case ProviderTypes.OpenAiCompatible when entry is { ProviderOptionsJson.Length: > 0 }:
                options.RawRepresentationFactory = _ => CompatibleOptions(entry.ProviderOptionsJson);
                break;
            case ProviderTypes.Anthropic when options.MaxOutputTokens is null && entry is { Output: > 0 }:
                options.MaxOutputTokens = entry.Output;
                break;
        }
    }

    /// <summary>
    /// Stateless: nothing stored at OpenAI, the whole input each time. Reasoning models get the reference's options: a
    /// summary (<c>auto</c>) to stream, and the encrypted reasoning to carry back on the tool loop's next step.
    /// </summary>
#pragma warning disable OPENAI001, SCME0001 // the Responses API types and JSON patches are marked for evaluation in OpenAI 2.14.0
    private static CreateResponseOptions OpenAiResponse(bool reasoning)
    {
        var options = new CreateResponseOptions { StoredOutputEnabled = false };
        if (!reasoning) return options;
        options.ReasoningOptions = new ResponseReasoningOptions { ReasoningSummaryVerbosity = ResponseReasoningSummaryVerbosity.Auto };
        options.IncludedProperties.Add(IncludedResponseProperty.ReasoningEncryptedContent);
        return options;
    }

    /// <summary>A compatible model's <c>providerOptions</c>, merged into its Chat Completions request as the AI SDK does.</summary>
    private static OpenAI.Chat.ChatCompletionOptions CompatibleOptions(string providerOptionsJson)
    {
        var options = new OpenAI.Chat.ChatCompletionOptions();
        using var document = JsonDocument.Parse(providerOptionsJson);
        if (document.RootElement.ValueKind != JsonValueKind.Object) return options;
        foreach (var property in document.RootElement.EnumerateObject())
            options.Patch.Set(System.Text.Encoding.UTF8.GetBytes($"$.{property.Name}"), BinaryData.FromString(property.Value.GetRawText()));
        return options;
    }
#pragma warning restore OPENAI001, SCME0001
}
