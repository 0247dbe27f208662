using System.Net.Http;
using Polly;
using Polly.Retry;

namespace AiAssistant.ServiceDefaults.Resilience;

/// <summary>
/// Retries a call whose connection could not be opened (the peer restarting): nothing was sent, so a retry is safe
/// even for calls that are not idempotent. Anything that failed after sending is the caller's to handle.
/// </summary>
public sealed class RetryOnConnectFailureHandler : DelegatingHandler
{
    private static readonly ResiliencePipeline Pipeline = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>(e => e.HttpRequestError == HttpRequestError.ConnectionError),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    public RetryOnConnectFailureHandler(HttpMessageHandler inner) : base(inner) { }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Pipeline.ExecuteAsync(static async (state, ct) => await state.Self.SendCoreAsync(state.Request, ct),
            (Self: this, Request: request), cancellationToken).AsTask();

    private Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken ct) => base.SendAsync(request, ct);
}
