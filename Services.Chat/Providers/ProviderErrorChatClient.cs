using System.ClientModel;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Anthropic.Exceptions;
using Microsoft.Extensions.AI;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>A provider's answer that is not a success; the message is safe to show (the key is scrubbed from it).</summary>
public sealed class ProviderException(string message) : Exception(message);

/// <summary>
/// Turns the OpenAI SDK's failures (<see cref="ClientResultException"/>: an error status, or no connection) and a stream
/// that breaks off into <see cref="ProviderException"/> with a message for the user. The SDK's own message holds the
/// provider's whole answer, which may echo the key: it is never passed on, not even as an inner exception.
/// </summary>
public sealed class ProviderErrorChatClient(IChatClient inner, string providerName, Uri endpoint, string apiKey) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return await base.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (Exception e) when (Translate(e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await updates.MoveNextAsync()) yield break;
            }
            catch (Exception e) when (Translate(e, cancellationToken) is { } failure)
            {
                throw failure;
            }
            yield return updates.Current;
        }
    }

    private ProviderException? Translate(Exception e, CancellationToken cancellationToken) => e switch
    {
        _ when cancellationToken.IsCancellationRequested => null,
        ClientResultException { Status: 0 } failed => new ProviderException(
            $"Cannot connect to {providerName} at {endpoint.Authority}: {ConnectionError(failed.InnerException)}."),
        ClientResultException failed => new ProviderException(
            $"{providerName} answered {failed.Status}: {Scrub(ErrorMessage(failed.GetRawResponse()))}"),
        AnthropicApiException failed => new ProviderException(
            $"{providerName} answered {(int)failed.StatusCode}: {Scrub(failed.ApiMessage ?? ErrorMessage(failed.ResponseBody))}"),
        AnthropicIOException failed => new ProviderException(
            $"Cannot connect to {providerName} at {endpoint.Authority}: {ConnectionError(failed.InnerException)}."),
        AnthropicSseException failed => new ProviderException($"{providerName} ended its answer with an error: {Scrub(failed.ApiMessage ?? "")}"),
        HttpRequestException { StatusCode: { } status } failed => new ProviderException($"{providerName} answered {(int)status}: {Scrub(failed.Message)}"),
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } failed => new ProviderException(
            $"Cannot connect to {providerName} at {endpoint.Authority}: {ConnectionError(failed)}."),
        HttpRequestException or IOException => new ProviderException(
            $"The connection to {providerName} at {endpoint.Authority} broke off: {ConnectionError(e)}."),
        _ => null,
    };

    private static string ConnectionError(Exception? e) => e switch
    {
        HttpRequestException h => h.HttpRequestError.ToString(),
        HttpIOException io => io.HttpRequestError.ToString(),
        { InnerException: { } inner } => ConnectionError(inner),
        _ => "Unknown",
    };

    /// <summary>OpenAI's <c>{"error":{"message":…}}</c> (or <c>{"error":"…"}</c>); otherwise the start of the body.</summary>
    private static string ErrorMessage(System.ClientModel.Primitives.PipelineResponse? response) => ErrorMessage(response?.Content?.ToString());

    private static string ErrorMessage(string? body)
    {
        body ??= "";
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
                return error.ValueKind == JsonValueKind.String ? error.GetString()! :
                    error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
        }
        catch (JsonException) { }
        return body.Length > 200 ? body[..200] : body;
    }

    /// <summary>Providers echo parts of a rejected key; none of it reaches a log, a trace or the browser.</summary>
    private string Scrub(string message) =>
        apiKey.Length >= 4 ? message.Replace(apiKey, "**********", StringComparison.Ordinal) : message;
}
