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
public sealed partial class ProviderErrorChatClient(IChatClient inner, string providerName, Uri endpoint, string apiKey) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            ProviderRetryHandler.StopWith(cancellationToken);
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
        ProviderRetryHandler.StopWith(cancellationToken);
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
            // a stop closes the answer under the SDK's feet: whatever that throws, the turn was cancelled
            catch (Exception e) when (e is not OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            if (StreamError(updates.Current) is { } error)
                throw new ProviderException($"{providerName} ended its answer with an error: {Scrub(error)}");
            yield return updates.Current;
        }
    }

    /// <summary>
    /// An error the provider sends inside its answer that the adapter passes on as an update, not as an exception:
    /// OpenAI's <c>response.failed</c> and <c>error</c> events, or an <see cref="ErrorContent"/>.
    /// </summary>
#pragma warning disable OPENAI001 // the Responses API's update types are marked for evaluation in OpenAI 2.14.0
    private static string? StreamError(ChatResponseUpdate update) => update.RawRepresentation switch
    {
        OpenAI.Responses.StreamingResponseFailedUpdate failed => failed.Response?.Error?.Message ?? "the response failed",
        OpenAI.Responses.StreamingResponseErrorUpdate error => error.Message ?? "error",
        _ => update.Contents.OfType<ErrorContent>().FirstOrDefault()?.Message,
    };
#pragma warning restore OPENAI001

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
        // an answer we cannot read (a broken event, a body that is not the provider's JSON)
        AnthropicException or JsonException => new ProviderException($"{providerName} sent an answer that could not be read ({e.GetType().Name})."),
        TimeoutException => new ProviderException($"{providerName} at {endpoint.Authority} did not answer in time."),
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
        TimeoutException => "Timeout",
        { InnerException: { } inner } => ConnectionError(inner),
        _ => "Unknown",
    };

    /// <summary>OpenAI's <c>{"error":{"message":…}}</c> (or <c>{"error":"…"}</c>); otherwise the start of the body.</summary>
    private static string ErrorMessage(System.ClientModel.Primitives.PipelineResponse? response) => ErrorMessage(response?.Content?.ToString());

    internal static string ErrorMessage(string? body)
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

    /// <summary>
    /// Providers echo a rejected key, whole or in part (OpenAI shows its start and its last four characters): any word
    /// that shares four characters in a row with the key is masked, so no part of it reaches a log, a trace or the browser.
    /// </summary>
    private string Scrub(string message) => Scrub(message, apiKey);

    /// <summary>The same masking for any provider answer (file uploads too).</summary>
    internal static string Scrub(string message, string apiKey) =>
        apiKey.Length < 4 ? message : Words().Replace(message, m => SharesKeyPart(m.ValueSpan, apiKey) ? "**********" : m.Value);

    private static bool SharesKeyPart(ReadOnlySpan<char> word, string apiKey)
    {
        for (var i = 0; i + 4 <= word.Length; i++)
            if (apiKey.AsSpan().IndexOf(word.Slice(i, 4), StringComparison.Ordinal) >= 0) return true;
        return false;
    }

    [System.Text.RegularExpressions.GeneratedRegex("""[^\s"'`,;:()\[\]{}<>]+""")]
    private static partial System.Text.RegularExpressions.Regex Words();
}
