using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using AiAssistant.ServiceDefaults.Telemetry;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>
/// Builds a provider's <see cref="IChatClient"/>: the OpenAI SDK's Chat Completions client (OpenAI, Gemini's
/// OpenAI-compatible endpoint, any OpenAI-compatible server) through Microsoft.Extensions.AI, with OpenTelemetry.
/// The HTTP goes through the factory's <see cref="HttpClientName"/> client, so HttpClient instrumentation traces it.
/// </summary>
public sealed class ProviderChatClients(IHttpClientFactory httpClients)
{
    public const string HttpClientName = "providers";

    /// <summary>The model every request names in <see cref="ChatOptions.ModelId"/>; the SDK's client wants one to start with.</summary>
    private const string NoDefaultModel = "unspecified";

    public IChatClient Create(Uri endpoint, string apiKey, IReadOnlyList<KeyValuePair<string, string>> headers, string providerName)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            Transport = new HttpClientPipelineTransport(httpClients.CreateClient(HttpClientName)),
            // A failed turn shows its error at once; the user sends again. Retries would hold the turn for seconds.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            // Answers are long streams: only the turn's own cancellation ends them.
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        if (headers.Count > 0) options.AddPolicy(new ProviderHeadersPolicy(headers), PipelinePosition.PerCall);
        // Local servers such as Ollama need no key: then no Authorization header at all.
        var openAi = apiKey.Length > 0
            ? new OpenAIClient(new ApiKeyCredential(apiKey), options)
            : NewKeylessClient(options);

        // Errors become ProviderException inside the telemetry, so no span or log sees a provider's raw answer.
        return new ChatClientBuilder(openAi.GetChatClient(NoDefaultModel).AsIChatClient())
            .UseOpenTelemetry(sourceName: AiAssistantActivity.SourceName)
            .Use(inner => new ProviderErrorChatClient(inner, providerName, endpoint, apiKey))
            .Build();
    }

    /// <summary>
    /// Anthropic's Messages API through the official SDK's <c>AsIChatClient</c>. <paramref name="baseUrl"/> is the AI SDK's
    /// (ending in <c>/v1</c>); the SDK adds <c>/v1/messages</c> itself. The SDK sends its key as
    /// <c>Authorization: Bearer</c>; <see cref="AnthropicKeyHeader"/> sends it as Anthropic's API documents instead.
    /// </summary>
    public IChatClient CreateAnthropic(Uri baseUrl, string apiKey)
    {
        var root = baseUrl.ToString().TrimEnd('/');
        if (root.EndsWith("/v1", StringComparison.Ordinal)) root = root[..^3];
        var anthropic = new AnthropicClient
        {
            ApiKey = apiKey,
            BaseUrl = root,
            HttpClient = httpClients.CreateClient(HttpClientName),
            Handlers = [new AnthropicKeyHeader(apiKey)],
            // retries are ProviderRetryHandler's, before the first byte only; streams end by the turn's cancellation
            MaxRetries = 0,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        return new ChatClientBuilder(anthropic.AsIChatClient())
            .UseOpenTelemetry(sourceName: AiAssistantActivity.SourceName)
            .Use(inner => new ProviderErrorChatClient(inner, ProviderTypes.Anthropic, baseUrl, apiKey))
            .Build();
    }

    /// <summary>Gemini's native API through our own client (<see cref="Gemini.GeminiChatClient"/>).</summary>
    public IChatClient CreateGemini(Uri baseUrl, string apiKey) =>
        new ChatClientBuilder(new Gemini.GeminiChatClient(httpClients.CreateClient(HttpClientName), baseUrl, apiKey))
            .UseOpenTelemetry(sourceName: AiAssistantActivity.SourceName)
            .Use(inner => new ProviderErrorChatClient(inner, ProviderTypes.Google, baseUrl, apiKey))
            .Build();

    /// <summary>Only <c>x-api-key</c> carries the key: no <c>Authorization</c> header leaves for Anthropic.</summary>
    private sealed class AnthropicKeyHeader(string apiKey) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = null;
            request.Headers.Remove("x-api-key");
            request.Headers.TryAddWithoutValidation("x-api-key", apiKey);
            return base.SendAsync(request, cancellationToken);
        }
    }

#pragma warning disable OPENAI001 // The AuthenticationPolicy constructor is marked for evaluation; it is the SDK's way to send no key.
    private static OpenAIClient NewKeylessClient(OpenAIClientOptions options) => new(new NoAuthentication(), options);
#pragma warning restore OPENAI001

    /// <summary>The custom headers of an OpenAI-compatible provider (<c>ai_openai_compatible_headers</c>) on every request.</summary>
    private sealed class ProviderHeadersPolicy(IReadOnlyList<KeyValuePair<string, string>> headers) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            AddHeaders(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            AddHeaders(message);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }

        private void AddHeaders(PipelineMessage message)
        {
            foreach (var (name, value) in headers) message.Request.Headers.Add(name, value);
        }
    }

    private sealed class NoAuthentication : AuthenticationPolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNext(message, pipeline, currentIndex);

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNextAsync(message, pipeline, currentIndex);
    }
}

public static class ProviderChatClientsExtensions
{
    /// <summary>
    /// The provider HTTP client: no resilience handler and no timeout (answers are long streams, a retry would repeat
    /// a paid request; the turn's cancellation ends it), no proxy detection, cookies or decompression.
    /// </summary>
    public static IServiceCollection AddProviderChatClients(this IServiceCollection services)
    {
        // The defaults give every client the standard resilience handler; this one keeps none.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked for evaluation (the Aspire AI template uses it the same way)
        services.AddHttpClient(ProviderChatClients.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                // Clients live as long as a settings version: new connections pick up DNS changes.
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = int.MaxValue,
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddSingleton<ProviderChatClients>();
        return services;
    }
}
