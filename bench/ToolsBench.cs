using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using AiAssistant.ProviderSimulator;
using AiAssistant.Services.Tools.ToolRegistry;
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
        int warmup, int seconds)
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
        async Task<double> Turn(bool expectTool, bool toReplica = false)
        {
            var started = Stopwatch.GetTimestamp();
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = toReplica ? await http.PostAsync(replicaChat, content) : await http.PostAsync("/ai/chat", content);
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
        var asService = new Grpc.Core.Metadata { { "authorization", "Bearer " + internalToken } };
        var request = new AiAssistant.Contracts.Tools.ExecuteToolRequest
        {
            Caller = new AiAssistant.Contracts.Tools.Caller { UserId = "00000000-0000-0000-0000-000000000001", Admin = true, App = true },
            Name = "execute", InputJson = toolCall.Calls[0].Arguments, ToolCallId = "bench", Scope = new AiAssistant.Contracts.Tools.ToolScope { Names = { "items" } },
        };
        var direct = new List<double>();
        for (var i = 0; i < 1200; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var reply = await grpc.ExecuteToolAsync(request, asService);
            if (reply.IsError) throw new InvalidOperationException("the tool failed: " + reply.OutputJson);
            if (i >= 200) direct.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        Console.WriteLine($"tools: the execute call alone, gRPC to Tools (1000): p50 {P(direct, 50):F2} ms p95 {P(direct, 95):F2} ms");
        Console.WriteLine($"tools c=1 (1000 each, blocks of 100): plain turn p50 {P(plain, 50):F2} ms p95 {P(plain, 95):F2} ms; " +
                          $"one execute round trip p50 {P(tool, 50):F2} ms p95 {P(tool, 95):F2} ms; the round trip adds p50 {P(tool, 50) - P(plain, 50):F2} ms  {Load()}");

        // where a tool turn's time goes, from the provider's side: when each of its requests arrived (body read)
        var toFirst = new List<double>();
        var between = new List<double>();
        var afterLast = new List<double>();
        var plainAfter = new List<double>();
        simulator.RequestLimit = 10_000;
        for (var i = 0; i < 600; i++)
        {
            var withTool = i % 2 == 1;
            simulator.DefaultToolCalls = withTool ? toolCall : null;
            simulator.ClearRequests();
            var start = DateTimeOffset.UtcNow;
            await Turn(withTool, toReplica: true);
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

    private static string Load() => "load " + File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
