using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using AiAssistant.ServiceDefaults.Telemetry;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>
/// Builds a provider's <see cref="IChatClient"/>, each with OpenTelemetry and our error translation: OpenAI's Responses
/// API and OpenAI-compatible servers' Chat Completions (the OpenAI SDK through Microsoft.Extensions.AI.OpenAI),
/// Anthropic (its official SDK), Gemini (our own client, <c>Gemini/</c>).
/// The HTTP goes through the factory's <see cref="HttpClientName"/> client, so HttpClient instrumentation traces it.
/// </summary>
public sealed class ProviderChatClients(IHttpClientFactory httpClients)
{
    public const string HttpClientName = "providers";

    /// <summary>The model every request names in <see cref="ChatOptions.ModelId"/>; the SDK's client wants one to start with.</summary>
    private const string NoDefaultModel = "unspecified";

    /// <summary>An OpenAI-compatible provider: Chat Completions with its custom headers (no key: no Authorization header).</summary>
    public IChatClient Create(Uri endpoint, string apiKey, IReadOnlyList<KeyValuePair<string, string>> headers, string providerName) =>
        Wrap(OpenAiClient(endpoint, apiKey, headers).GetChatClient(NoDefaultModel).AsIChatClient(), providerName, endpoint, apiKey);

    /// <summary>
    /// OpenAI on the Responses API (what the reference's AI SDK uses), stateless: <see cref="ProviderRequests"/> sends
    /// <c>store: false</c> and the whole input every time.
    /// </summary>
#pragma warning disable OPENAI001 // the Responses client is marked for evaluation in OpenAI 2.14.0
    public IChatClient CreateOpenAi(Uri endpoint, string apiKey) =>
        Wrap(OpenAiClient(endpoint, apiKey, []).GetResponsesClient().AsIChatClient(NoDefaultModel), ProviderTypes.OpenAi, endpoint, apiKey);
#pragma warning restore OPENAI001

    private OpenAIClient OpenAiClient(Uri endpoint, string apiKey, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            Transport = new HttpClientPipelineTransport(httpClients.CreateClient(HttpClientName)),
            // retries are ProviderRetryHandler's, before the first byte only
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            // Answers are long streams: only the turn's own cancellation ends them.
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        if (headers.Count > 0) options.AddPolicy(new ProviderHeadersPolicy(headers), PipelinePosition.PerCall);
        // Local servers such as Ollama need no key: then no Authorization header at all.
        return apiKey.Length > 0 ? new OpenAIClient(new ApiKeyCredential(apiKey), options) : NewKeylessClient(options);
    }

    /// <summary>Errors become ProviderException inside the telemetry, so no span or log sees a provider's raw answer.</summary>
    private static IChatClient Wrap(IChatClient client, string providerName, Uri endpoint, string apiKey) =>
        new ChatClientBuilder(client)
            .UseOpenTelemetry(sourceName: AiAssistantActivity.SourceName)
            .Use(inner => new ProviderErrorChatClient(inner, providerName, endpoint, apiKey))
            .Build();

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
        return Wrap(anthropic.AsIChatClient(), ProviderTypes.Anthropic, baseUrl, apiKey);
    }

    /// <summary>Gemini's native API through our own client (<see cref="Gemini.GeminiChatClient"/>).</summary>
    public IChatClient CreateGemini(Uri baseUrl, string apiKey) =>
        Wrap(new Gemini.GeminiChatClient(httpClients.CreateClient(HttpClientName), baseUrl, apiKey), ProviderTypes.Google, baseUrl, apiKey);

    /// <summary>
    /// Only <c>x-api-key</c> carries the key: no <c>Authorization</c> header leaves for Anthropic. A request that names
    /// an uploaded file (<c>source: {type: "file", file_id}</c>, from <c>POST /ai/files</c>) also gets the Files API's
    /// beta header, which the SDK does not add, as the reference's <c>createAnthropicWithFileSupport</c> does.
    /// </summary>
    private sealed class AnthropicKeyHeader(string apiKey) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = null;
            request.Headers.Remove("x-api-key");
            request.Headers.TryAddWithoutValidation("x-api-key", apiKey);
            if (request.Content is { } content)
            {
                await content.LoadIntoBufferAsync(cancellationToken);
                if ((await content.ReadAsStringAsync(cancellationToken)).Contains("\"file_id\"", StringComparison.Ordinal))
                {
                    var betas = request.Headers.TryGetValues("anthropic-beta", out var given) ? string.Join(",", given) : "";
                    if (!betas.Contains(Files.ProviderFiles.AnthropicFilesBeta, StringComparison.Ordinal))
                    {
                        request.Headers.Remove("anthropic-beta");
                        request.Headers.TryAddWithoutValidation("anthropic-beta",
                            betas.Length > 0 ? $"{betas},{Files.ProviderFiles.AnthropicFilesBeta}" : Files.ProviderFiles.AnthropicFilesBeta);
                    }
                }
            }
            return await base.SendAsync(request, cancellationToken);
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
    /// The provider HTTP client: no timeout of its own and no standard resilience handler (answers are long streams,
    /// and a retry after the answer started would repeat a paid request), but <see cref="ProviderRetryHandler"/> before
    /// it starts; no proxy detection, cookies or decompression. <c>Providers:*</c> configures retries and timeouts.
    /// </summary>
    public static IServiceCollection AddProviderChatClients(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ProviderOptions>(configuration.GetSection(ProviderOptions.Section));
        services.TryAddSingleton(TimeProvider.System);
        services.AddTransient<ProviderRetryHandler>();
        // The defaults give every client the standard resilience handler; this one keeps none.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked for evaluation (the Aspire AI template uses it the same way)
        services.AddHttpClient(ProviderChatClients.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProviderOptions>>().Value.ConnectTimeout,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                // Clients live as long as a settings version: new connections pick up DNS changes.
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = int.MaxValue,
                // an answer given up (a stop) closes its connection at once instead of being read to its end for reuse
                MaxResponseDrainSize = 0,
            })
            .RemoveAllResilienceHandlers()
            .AddHttpMessageHandler<ProviderRetryHandler>();
#pragma warning restore EXTEXP0001
        services.AddSingleton<ProviderChatClients>();
        return services;
    }
}
