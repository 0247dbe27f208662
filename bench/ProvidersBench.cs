using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AiAssistant.ProviderSimulator;
using static Measure;

/// <summary>
/// Issue 10's targets, per provider (OpenAI Responses, Anthropic Messages, Gemini streamGenerateContent, an
/// OpenAI-compatible one on Chat Completions), on the shared stack whose built-in providers' base URLs point at the
/// simulator: the latency a turn through the gateway adds to the same answer fetched from the simulator directly (c=1,
/// zero delay), and how long after a client stops reading the provider request is closed (the simulator sees it).
/// </summary>
static class ProvidersBench
{
    private sealed record Provider(string Id, string Model, Func<HttpRequestMessage> Direct);

    public static async Task RunAsync(HttpClient http, string gatewayUrl, SimulatorServer simulator, int turns, int stops)
    {
        var root = $"http://127.0.0.1:{simulator.Port}";
        Provider[] providers =
        [
            new("openai", "gpt-5.4-mini", () => Post($"{root}/v1/responses", new { model = "gpt-5.4-mini", input = "Hello", stream = true, store = false })),
            new("anthropic", "claude-sonnet-4-6", () => Post($"{root}/v1/messages",
                new { model = "claude-sonnet-4-6", max_tokens = 1024, stream = true, messages = new[] { new { role = "user", content = "Hello" } } })),
            new("google", "gemini-2.5-flash", () => Post($"{root}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                new { contents = new[] { new { role = "user", parts = new[] { new { text = "Hello" } } } } })),
            new("openai-compatible", "sim-model", () => Post($"{root}/v1/chat/completions",
                new { model = "sim-model", stream = true, stream_options = new { include_usage = true }, messages = new[] { new { role = "user", content = "Hello" } } })),
        ];
        var settings = new Dictionary<string, object>();
        foreach (var p in providers.Where(p => p.Id != "openai-compatible"))
        {
            settings[$"ai_{p.Id}_api_key"] = $"sk-bench-{p.Id}";
            settings[$"ai_{p.Id}_allowed_models"] = new[] { p.Model };
        }
        (await http.PatchAsJsonAsync(new Uri(new Uri(gatewayUrl), "/settings"), settings)).EnsureSuccessStatusCode();
        // a client that goes away as a browser does: .NET's own would first read on for up to 2 s to reuse the connection
        using var leaving = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxResponseDrainSize = 0 });
        leaving.DefaultRequestHeaders.Authorization = http.DefaultRequestHeaders.Authorization;
        await Task.Delay(1500);
        var chat = new Uri(new Uri(gatewayUrl), "/ai/chat");

        foreach (var p in providers)
        {
            var body = new
            {
                provider = p.Id, model = p.Model, tools = Array.Empty<string>(),
                messages = new[] { new { id = "m1", role = "user", parts = new[] { new { type = "text", text = "Hello" } } } },
            };
            async Task<double> TimeAsync(Func<HttpRequestMessage> request)
            {
                var started = Stopwatch.GetTimestamp();
                using var message = request();
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
                response.EnsureSuccessStatusCode();
                await (await response.Content.ReadAsStreamAsync()).CopyToAsync(Stream.Null);
                return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
            HttpRequestMessage Turn() => new(HttpMethod.Post, chat) { Content = JsonContent.Create(body) };

            for (var i = 0; i < turns / 5; i++) { await TimeAsync(p.Direct); await TimeAsync(Turn); } // warm
            var direct = new List<double>();
            var gateway = new List<double>();
            for (var i = 0; i < turns; i++) { direct.Add(await TimeAsync(p.Direct)); gateway.Add(await TimeAsync(Turn)); }

            // stop: read until the first text arrives, then go away; the simulator notes when its request was closed
            var previousLimit = simulator.RequestLimit;
            simulator.RequestLimit = 100;
            var cancelled = new List<double>();
            var slow = SimulatedReply.Text(string.Join(' ', Enumerable.Repeat("slowly", 400))).WithPacing(Pacing.FromMilliseconds(0, 20));
            for (var i = 0; i < stops; i++)
            {
                simulator.ClearRequests();
                simulator.Enqueue(slow);
                long left;
                using (var message = Turn())
                using (var response = await leaving.SendAsync(message, HttpCompletionOption.ResponseHeadersRead))
                {
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
                    while (await reader.ReadLineAsync() is { } line && !line.Contains("text-delta", StringComparison.Ordinal)) { }
                    left = Stopwatch.GetTimestamp();
                }
                var upstream = (await simulator.WaitForRequestsAsync(1))[0];
                if (!await upstream.ClosedByClient.WaitAsync(TimeSpan.FromSeconds(30))) throw new InvalidOperationException($"{p.Id}: the provider request ran to its end");
                cancelled.Add(Stopwatch.GetElapsedTime(left).TotalMilliseconds);
                simulator.ClearReplies();
            }
            simulator.RequestLimit = previousLimit;

            Console.WriteLine($"providers: {p.Id} ({p.Model}), c=1, {turns} turns each: simulator directly p50 {P(direct, 50):F3} ms, " +
                $"through gateway+chat p50 {P(gateway, 50):F3} ms → added p50 {P(gateway, 50) - P(direct, 50):F3} ms, p95 {P(gateway, 95) - P(direct, 95):F3} ms; " +
                $"stop → provider request closed ({stops}): p50 {P(cancelled, 50):F1} ms, p99 {P(cancelled, 99):F1} ms, max {cancelled.Max():F1} ms  [{File.ReadAllText("/proc/loadavg").Trim()}]");
        }
    }

    private static HttpRequestMessage Post(string url, object body)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(body) };
        // the simulator takes any key; the gateway's admin token goes only to the gateway
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-bench-direct");
        message.Headers.Add("x-api-key", "sk-bench-direct");
        message.Headers.Add("x-goog-api-key", "sk-bench-direct");
        return message;
    }
}
