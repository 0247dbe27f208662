using System.Net;
using Microsoft.Extensions.Options;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>How provider calls are retried and timed out (<c>Providers:*</c> in Chat's configuration).</summary>
public sealed class ProviderOptions
{
    public const string Section = "Providers";

    /// <summary>Further attempts after a 408, 429, 5xx (529 included) or a failed connection; 0 turns retries off.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first wait when the provider names none (<c>Retry-After</c>); it doubles each attempt.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>No retry starts after this long since the first attempt, nor waits past it (a longer <c>Retry-After</c> ends the retries).</summary>
    public TimeSpan RetryWithin { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The longest a connection to the provider may take to open.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest an attempt waits for the answer's headers (a stream's first byte); a timeout is retried like a failed connection.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(120);
}

/// <summary>
/// Retries a provider call only before its answer starts: a failed connection, a timeout before the headers, or a 408,
/// 429 or 5xx answer, with exponential backoff or the provider's own <c>Retry-After</c> (<c>retry-after-ms</c>), all
/// within <see cref="ProviderOptions.RetryWithin"/>. Once the headers of a success are here, the answer streams to the
/// user and nothing is repeated: a stream that breaks off later ends the turn with an error chunk.
/// </summary>
public sealed class ProviderRetryHandler(IOptions<ProviderOptions> options, TimeProvider time) : DelegatingHandler
{
    private static readonly AsyncLocal<CancellationToken> Stop = new();

    /// <summary>The token that stops the provider calls made from here on in this flow (the turn's).</summary>
    public static void StopWith(CancellationToken cancellationToken) => Stop.Value = cancellationToken;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var started = time.GetTimestamp();
        // the body goes out again on a retry
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            using var attemptRequest = attempt == 0 ? null : Copy(request, body);
            var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(o.ResponseTimeout);
            HttpResponseMessage? response = null;
            Exception? failure = null;
            try
            {
                response = await base.SendAsync(attemptRequest ?? request, timeout.Token);
                // the answer streams under the caller's token alone from here on
                timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                if (!Retryable(response.StatusCode))
                {
                    // A stop closes the connection at once, whether or not an SDK is reading at that moment (the
                    // OpenAI SDK checks the token between events and leaves its answer open). The token we get here
                    // is HttpClient's own, gone once the headers are in: the turn's comes through StopWith.
                    if (Stop.Value.CanBeCanceled) response.Content = new StoppableContent(response.Content, Stop.Value);
                    return response;
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or OperationCanceledException)
            {
                failure = e is OperationCanceledException ? new TimeoutException($"No answer within {o.ResponseTimeout.TotalSeconds:0.#} s.", e) : e;
            }

            var delay = RetryAfter(response) ?? o.RetryDelay * Math.Pow(2, attempt);
            if (attempt >= o.MaxRetries || time.GetElapsedTime(started) + delay > o.RetryWithin)
            {
                if (response is not null) return response;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure!);
            }
            response?.Dispose();
            // kept alive only for an answer that streams (HTTP/2 ties the body's reads to it)
            timeout.Dispose();
            await Task.Delay(delay, time, cancellationToken);
        }
    }

    /// <summary>
    /// The answer's body, whose stream a stop disposes (with no drain, that closes the connection). The SDKs take that
    /// stream from the response and read it between their own cancellation checks, so disposing the response would not
    /// reach it.
    /// </summary>
    private sealed class StoppableContent : HttpContent
    {
        private readonly HttpContent inner;
        private readonly CancellationToken stop;
        private CancellationTokenRegistration registration;

        public StoppableContent(HttpContent inner, CancellationToken stop)
        {
            this.inner = inner;
            this.stop = stop;
            foreach (var (name, values) in inner.Headers) Headers.TryAddWithoutValidation(name, values);
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            Watch(await inner.ReadAsStreamAsync(cancellationToken));

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => Watch(inner.ReadAsStream(cancellationToken));

        private Stream Watch(Stream stream)
        {
            registration = stop.Register(static s => ((Stream)s!).Dispose(), stream);
            return stream;
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => inner.CopyToAsync(stream);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
            inner.CopyToAsync(stream, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                registration.Dispose();
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    private static bool Retryable(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The provider's own wait: <c>retry-after-ms</c> (OpenAI, Anthropic), else <c>Retry-After</c> in seconds or as a date.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        if (response is null) return null;
        if (response.Headers.TryGetValues("retry-after-ms", out var ms) && double.TryParse(ms.First(), System.Globalization.CultureInfo.InvariantCulture, out var millis))
            return TimeSpan.FromMilliseconds(Math.Max(0, millis));
        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => null,
        };
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request, byte[]? body)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var (name, values) in request.Headers) copy.Headers.TryAddWithoutValidation(name, values);
        if (body is not null)
        {
            copy.Content = new ByteArrayContent(body);
            foreach (var (name, values) in request.Content!.Headers) copy.Content.Headers.TryAddWithoutValidation(name, values);
        }
        foreach (var (name, value) in request.Options) ((IDictionary<string, object?>)copy.Options)[name] = value;
        return copy;
    }
}
