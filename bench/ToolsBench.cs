using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using AiAssistant.Contracts;
using AiAssistant.ProviderSimulator;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.ServiceDefaults.Grpc;
using AiAssistant.Services.Tools.ToolRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static Measure;

/// <summary>
/// The assistant tools' targets (issue 9). Through the gateway, with the simulator at zero delay answering every user
/// turn with one <c>execute</c> call (an items read of 10 rows) and the tool's result with text
/// (<see cref="SimulatorServer.DefaultToolCalls"/>): after a warm-up at c=64, turns at c=1 in blocks of 100
/// alternating plain turns and tool turns, through the gateway and to one Chat replica (what the round trip adds,
/// p50); the execute call alone over gRPC; where a tool turn's time goes, from when each provider request arrived;
/// then tool turns at c=64 for the given seconds. Last, in process, <c>search</c> by query over the real tool catalog.
/// </summary>
static class ToolsBench
{
    public static async Task RunAsync(string gatewayUrl, string replicaUrl, string adminToken, SimulatorServer simulator, string toolsGrpcUrl, string internalToken,
        OtlpSink telemetry, int warmup, int seconds)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseProxy = false };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(gatewayUrl), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);

        var collection = "bench_notes_" + Guid.NewGuid().ToString("N")[..6];
        (await http.PostAsJsonAsync("/collections", new { collection, schema = new { }, fields = new object[] { new { field = "title", type = "string" } } })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync($"/items/{collection}", Enumerable.Range(0, 50).Select(i => new { title = $"Note {i}" }).ToArray())).EnsureSuccessStatusCode();
        var toolCall = SimulatedReply.ToolCalls(("execute", $$$$"""{"name":"items","input":{"action":"read","collection":"{{{{collection}}}}","query":{"limit":10}}}"""));
        var body = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new
        {
            provider = "openai-compatible", model = "sim-model", tools = new[] { "items" },
            messages = new[] { new { id = "m1", role = "user", parts = new[] { new { type = "text", text = "List my notes" } } } },
        }));

        var replicaChat = new Uri(new Uri(replicaUrl), "/ai/chat");
        async Task<double> Turn(bool expectTool, bool toReplica = false, string? traceParent = null)
        {
            var started = Stopwatch.GetTimestamp();
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var message = new HttpRequestMessage(HttpMethod.Post, toReplica ? replicaChat : new Uri("/ai/chat", UriKind.Relative)) { Content = content };
            if (traceParent is not null) message.Headers.Add("traceparent", traceParent);
            using var response = await http.SendAsync(message);
            response.EnsureSuccessStatusCode();
            var text = await response.Content.ReadAsStringAsync();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (expectTool && !text.Contains("\"type\":\"tool-output-available\"", StringComparison.Ordinal))
                throw new InvalidOperationException("a tool turn ran no tool: " + text[..Math.Min(400, text.Length)]);
            if (expectTool && text.Contains("\"ok\":false", StringComparison.Ordinal))
                throw new InvalidOperationException("the tool failed: " + text[..Math.Min(600, text.Length)]);
            return elapsed;
        }

        simulator.DefaultToolCalls = toolCall;
        Console.WriteLine($"tools: warming up for {warmup} s at c=64…");
        var warm = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ => { while (warm.Elapsed < TimeSpan.FromSeconds(warmup)) await Turn(true); }));

        var plain = new List<double>();
        var tool = new List<double>();
        var plainReplica = new List<double>();
        var toolReplica = new List<double>();
        for (var block = 0; block < 20; block++)
        {
            var withTool = block % 2 == 1;
            simulator.DefaultToolCalls = withTool ? toolCall : null;
            for (var i = 0; i < 100; i++)
            {
                (withTool ? tool : plain).Add(await Turn(withTool));
                (withTool ? toolReplica : plainReplica).Add(await Turn(withTool, toReplica: true));
            }
        }
        Console.WriteLine($"tools c=1 to one chat replica directly (no gateway): plain p50 {P(plainReplica, 50):F2} ms, tool p50 {P(toolReplica, 50):F2} ms; " +
                          $"the round trip adds p50 {P(toolReplica, 50) - P(plainReplica, 50):F2} ms");
        // the tool's own share: the same execute call straight to Tools over gRPC, as Chat makes it
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(toolsGrpcUrl);
        var grpc = new AiAssistant.Contracts.Tools.Tools.ToolsClient(channel);
        var request = new AiAssistant.Contracts.Tools.ExecuteToolRequest
        {
            Caller = new AiAssistant.Contracts.Tools.Caller { UserId = "00000000-0000-0000-0000-000000000001", Admin = true, App = true },
            Name = "execute", InputJson = toolCall.Calls[0].Arguments, ToolCallId = "bench", Scope = new AiAssistant.Contracts.Tools.ToolScope { Names = { "items" } },
        };
        // and as Chat's own client makes it (Grpc.Net.ClientFactory: retry policy, credential interceptor, its handler)
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:tools:grpc:0"] = toolsGrpcUrl, ["Internal:Token"] = internalToken,
        }).Build();
        var clientServices = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        clientServices.AddInternalGrpcClient<AiAssistant.Contracts.Tools.Tools.ToolsClient>(ResourceNames.Tools, TimeSpan.FromSeconds(10));
        await using var provider = clientServices.BuildServiceProvider();
        var asChat = provider.GetRequiredService<AiAssistant.Contracts.Tools.Tools.ToolsClient>();
        var direct = new List<double>();
        var viaFactory = new List<double>();
        var directTraces = new List<string>();
        for (var i = 0; i < 2400; i++)
        {
            var factory = i % 2 == 1;
            var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            if (!factory && i >= 400) directTraces.Add(traceId);
            var headers = new Grpc.Core.Metadata { { "traceparent", $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01" } };
            if (!factory) headers.Add("authorization", "Bearer " + internalToken);
            var started = Stopwatch.GetTimestamp();
            var reply = factory ? await asChat.ExecuteToolAsync(request, headers) : await grpc.ExecuteToolAsync(request, headers);
            if (reply.IsError) throw new InvalidOperationException("the tool failed: " + reply.OutputJson);
            if (i >= 400) (factory ? viaFactory : direct).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        Console.WriteLine($"tools: the execute call alone, gRPC to Tools (1000, alternating): a plain channel p50 {P(direct, 50):F2} ms p95 {P(direct, 95):F2} ms; " +
                          $"Chat's client (client factory) p50 {P(viaFactory, 50):F2} ms p95 {P(viaFactory, 95):F2} ms");
        Console.WriteLine($"tools c=1 (1000 each, blocks of 100): plain turn p50 {P(plain, 50):F2} ms p95 {P(plain, 95):F2} ms; " +
                          $"one execute round trip p50 {P(tool, 50):F2} ms p95 {P(tool, 95):F2} ms; the round trip adds p50 {P(tool, 50) - P(plain, 50):F2} ms  {Load()}");

        // where a tool turn's time goes, from the provider's side: when each of its requests arrived (body read)
        var toFirst = new List<double>();
        var between = new List<double>();
        var afterLast = new List<double>();
        var plainAfter = new List<double>();
        var traced = new List<string>();
        simulator.RequestLimit = 10_000;
        for (var i = 0; i < 600; i++)
        {
            var withTool = i % 2 == 1;
            simulator.DefaultToolCalls = withTool ? toolCall : null;
            simulator.ClearRequests();
            var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            if (withTool) traced.Add(traceId);
            var start = DateTimeOffset.UtcNow;
            await Turn(withTool, toReplica: true, $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01");
            var end = DateTimeOffset.UtcNow;
            var seen = simulator.Requests;
            if (seen.Count != (withTool ? 2 : 1)) throw new InvalidOperationException($"expected {(withTool ? 2 : 1)} provider requests, saw {seen.Count}");
            if (!withTool) { plainAfter.Add((end - seen[0].Time).TotalMilliseconds); continue; }
            toFirst.Add((seen[0].Time - start).TotalMilliseconds);
            between.Add((seen[1].Time - seen[0].Time).TotalMilliseconds);
            afterLast.Add((end - seen[1].Time).TotalMilliseconds);
        }
        simulator.RequestLimit = 0;
        Console.WriteLine($"tools: a tool turn to one replica, p50: start → 1st provider request {P(toFirst, 50):F2} ms, 1st → 2nd (tool call streamed, " +
                          $"the tool run, the next request built) {P(between, 50):F2} ms, 2nd → end {P(afterLast, 50):F2} ms; a plain turn's request → end {P(plainAfter, 50):F2} ms");

        await Task.Delay(TimeSpan.FromSeconds(3)); // each service exports its spans every second
        ToolTurnSpans(telemetry, traced);
        var toolsSide = telemetry.Spans().Where(s => s.Service == ResourceNames.Tools && directTraces.Contains(s.TraceId)).ToList();
        var servers = toolsSide.Where(s => s.Name.EndsWith("/ExecuteTool", StringComparison.Ordinal)).Select(s => s.Milliseconds).ToList();
        var sql = toolsSide.Where(s => s.Name == "postgresql").Select(s => s.Milliseconds).ToList();
        if (servers.Count > 0)
            Console.WriteLine($"tools: the execute calls alone from the plain channel, Tools' server span p50 {P(servers, 50):F2} ms ({servers.Count} traced), " +
                              $"its postgresql spans p50 {(sql.Count > 0 ? P(sql, 50) : 0):F2} ms ({sql.Count})");

        simulator.DefaultToolCalls = toolCall;
        var until = Stopwatch.StartNew();
        long turns = 0, failures = 0;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            while (until.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                try { await Turn(true); Interlocked.Increment(ref turns); }
                catch (Exception e) when (e is HttpRequestException or InvalidOperationException) { Interlocked.Increment(ref failures); }
            }
        }));
        simulator.DefaultToolCalls = null;
        Console.WriteLine($"tools c=64 for {seconds} s, one execute round trip per turn: {turns / until.Elapsed.TotalSeconds:F0} turns/s ({failures} failed)  {Load()}");

        var index = new ToolSearchIndex(ToolCatalog.Load());
        string[] queries = ["create a new item in a collection", "upload an image from a url", "add a field", "relations between collections", "folders", "resize image"];
        var times = new List<double>();
        for (var i = 0; i < 22000; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var found = index.Search(queries[i % queries.Length], _ => true);
            if (i >= 2000) times.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            if (found.Count == 0) throw new InvalidOperationException($"search found nothing for \"{queries[i % queries.Length]}\"");
        }
        Console.WriteLine($"search by query over the {ToolCatalog.Load().Count} tools, in process (20000): p50 {P(times, 50):F1} µs, p95 {P(times, 95):F1} µs");
    }

    /// <summary>
    /// The same tool turns from their exported spans (each service's own clock, one machine): Chat's request span, its
    /// two provider calls (Microsoft.Extensions.AI's <c>chat {model}</c>, from the request to the end of the stream), the
    /// gRPC call to Tools and Tools' own span of it, and the gaps between them (p50 over the turns); then the spans
    /// of the median turn as a timeline.
    /// </summary>
    private static void ToolTurnSpans(OtlpSink telemetry, List<string> traceIds)
    {
        var byTrace = telemetry.Spans().Where(s => traceIds.Contains(s.TraceId)).GroupBy(s => s.TraceId).ToDictionary(g => g.Key, g => g.ToList());
        var parts = new Dictionary<string, List<double>>();
        void Add(string part, double ms) { if (!parts.TryGetValue(part, out var list)) parts[part] = list = []; list.Add(ms); }
        var timelines = new List<(double Total, List<ExportedSpan> Spans)>();
        foreach (var spans in byTrace.Values)
        {
            var chat = spans.Where(s => s.Service == ResourceNames.Chat).ToList();
            var server = chat.Where(s => s.Name.StartsWith("POST", StringComparison.Ordinal) && chat.All(p => p.SpanId != s.ParentId)).OrderBy(s => s.Start).FirstOrDefault();
            var calls = chat.Where(s => s.Name.StartsWith("chat ", StringComparison.Ordinal)).OrderBy(s => s.Start).ToList();
            var grpc = chat.FirstOrDefault(s => s.Name.EndsWith("/ExecuteTool", StringComparison.Ordinal));
            var tool = spans.FirstOrDefault(s => s.Service == ResourceNames.Tools && s.Name.EndsWith("/ExecuteTool", StringComparison.Ordinal));
            if (server is null || calls.Count != 2 || grpc is null) continue;
            static double Ms(ulong from, ulong to) => ((long)to - (long)from) / 1e6;
            Add("request → 1st provider call", Ms(server.Start, calls[0].Start));
            Add("1st provider call (request → end of its stream)", calls[0].Milliseconds);
            Add("its end → gRPC ExecuteTool", Ms(calls[0].End, grpc.Start));
            Add("gRPC ExecuteTool (Chat's client span)", grpc.Milliseconds);
            if (tool is not null) Add("— of it, Tools' server span", tool.Milliseconds);
            Add("gRPC end → 2nd provider call", Ms(grpc.End, calls[1].Start));
            Add("2nd provider call", calls[1].Milliseconds);
            Add("its end → request's end", Ms(calls[1].End, server.End));
            Add("whole request (Chat's server span)", server.Milliseconds);
            timelines.Add((server.Milliseconds, spans));
        }
        Console.WriteLine($"tools: a tool turn to one replica from its spans ({timelines.Count} of {traceIds.Count} traces complete), p50:");
        foreach (var (part, values) in parts) Console.WriteLine($"  {part,-50} {P(values, 50),7:F2} ms   (p95 {P(values, 95):F2})");
        if (timelines.Count == 0) return;
        var median = timelines.OrderBy(t => t.Total).ElementAt(timelines.Count / 2).Spans;
        var origin = median.Min(s => s.Start);
        Console.WriteLine("  the median turn's spans (start, duration, service, name):");
        foreach (var span in median.OrderBy(s => s.Start))
            Console.WriteLine($"    {(span.Start - origin) / 1e6,7:F2} {span.Milliseconds,7:F2}  {span.Service,-8} {span.Name}");
    }

    private static string Load() => "load " + File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
