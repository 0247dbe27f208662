using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using AiAssistant.Contracts;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.ProviderSimulator;
using static Measure;

// Measures the targets of the issues; see bench/README.md. Usage: Bench [all|latency|throughput|keychange|settings|access|content|tools|flows|providers|faults|web] [--seconds N] [--warmup N] [--logs FILE]
var what = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "all";
var seconds = args.SkipWhile(a => a != "--seconds").Skip(1).Select(int.Parse).FirstOrDefault(20);
// Tiered JIT recompiles hot code for about two minutes of load after start (measured with dotnet-counters: Chat's JIT
// time falls from ~75 % of a core to ~3 % after 110-130 s at c=64): measure the services warm, as they run for days.
var warmupArg = args.SkipWhile(a => a != "--warmup").Skip(1).Select(a => (int?)int.Parse(a)).FirstOrDefault();
var warmup = warmupArg ?? 150;
// Every resource's log lines, as the AppHost collected them, written to this file at the end.
var logFile = args.SkipWhile(a => a != "--logs").Skip(1).FirstOrDefault();

// faults starts stacks of its own (1, 2, 3 Chat replicas; replicas killed), not the shared one
if (what == "faults")
{
    await FaultsBench.RunAsync(seconds, warmupArg ?? 30);
    return;
}

var folder = Path.Combine(Path.GetTempPath(), "aiassistant-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(folder);
var adminToken = "bench-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));

await using var simulator = await SimulatorServer.StartAsync();
simulator.RequestLimit = 0;
Console.WriteLine("starting the stack (servers, settings, tools, 2 chat replicas, gateway)…");
// the built-in providers reach the simulator too (mode providers)
var stack = await RunningApp.StartAsync(folder, ["--port", "0", "--chat-replicas", "2", "--ADMIN_TOKEN", adminToken,
    "--AI_OPENAI_BASE_URL", simulator.BaseUrl, "--AI_ANTHROPIC_BASE_URL", simulator.BaseUrl,
    "--AI_GOOGLE_BASE_URL", $"http://127.0.0.1:{simulator.Port}/v1beta"], [ResourceNames.Gateway]);
var gatewayUrl = stack.Url(ResourceNames.Gateway);
var chatReplicas = stack.ReplicaUrls(ResourceNames.Chat);
string[] services = [ResourceNames.Settings, ResourceNames.Tools, ResourceNames.Chat, ResourceNames.Gateway];
try
{
    var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseProxy = false };
    using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);

    await Patch(new { ai_openai_compatible_name = "simulator", ai_openai_compatible_base_url = simulator.BaseUrl, ai_openai_compatible_api_key = "sk-bench-1" });
    await Task.Delay(1500);

    var chatBody = JsonContentBytes(new
    {
        provider = "openai-compatible", model = "sim-model", tools = Array.Empty<string>(),
        messages = new[] { new { id = "m1", role = "user", parts = new[] { new { type = "text", text = "Hello" } } } },
    });
    var directBody = JsonContentBytes(new
    {
        model = "sim-model", stream = true, stream_options = new { include_usage = true },
        messages = new[] { new { role = "user", content = "Hello" } },
    });
    var gatewayChat = new Uri(new Uri(gatewayUrl), "/ai/chat");
    var replicaChat = new Uri(new Uri(chatReplicas[0]), "/ai/chat");
    // the chat resource's own endpoint: Aspire's DCP proxy in front of the replicas (the gateway addresses each replica
    // itself: AppHost/Hosting/ReplicaAddresses.cs)
    var proxiedChat = new Uri(new Uri(stack.Url(ResourceNames.Chat)), "/ai/chat");
    var directChat = new Uri(simulator.BaseUrl + "/chat/completions");

    async Task<double> Turn(Uri url, byte[] body)
    {
        var started = Stopwatch.GetTimestamp();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(url, content);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync();
        await stream.CopyToAsync(Stream.Null);
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    if (warmup > 0 && what is "all" or "latency" or "throughput")
    {
        Console.WriteLine($"warming up for {warmup} s…");
        var warm = Stopwatch.StartNew();
        // the measured paths at the measured load: 56 chats through the gateway, 8 alternating over all three paths
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async n =>
        {
            while (warm.Elapsed < TimeSpan.FromSeconds(warmup))
            {
                await Turn(gatewayChat, chatBody);
                if (n < 8) { await Turn(directChat, directBody); await Turn(replicaChat, chatBody); await Turn(proxiedChat, chatBody); }
            }
        }));
    }

    if (what is "all" or "latency")
    {
        for (var i = 0; i < 300; i++) { await Turn(directChat, directBody); await Turn(gatewayChat, chatBody); }
        var direct = new List<double>();
        var replica = new List<double>();
        var proxied = new List<double>();
        var gateway = new List<double>();
        for (var i = 0; i < 2000; i++)
        {
            direct.Add(await Turn(directChat, directBody));
            replica.Add(await Turn(replicaChat, chatBody));
            proxied.Add(await Turn(proxiedChat, chatBody));
            gateway.Add(await Turn(gatewayChat, chatBody));
        }
        Console.WriteLine($"one chat replica directly (no gateway): p50 {P(replica, 50):F3} ms p95 {P(replica, 95):F3} ms");
        Console.WriteLine($"chat through Aspire's DCP proxy (no gateway): p50 {P(proxied, 50):F3} ms p95 {P(proxied, 95):F3} ms");
        Console.WriteLine($"latency c=1, 2000 turns each: simulator directly p50 {P(direct, 50):F3} ms p95 {P(direct, 95):F3} ms; " +
                          $"through gateway+chat p50 {P(gateway, 50):F3} ms p95 {P(gateway, 95):F3} ms");
        Console.WriteLine($"added latency: p50 {P(gateway, 50) - P(direct, 50):F3} ms, p95 {P(gateway, 95) - P(direct, 95):F3} ms");
    }

    if (what is "all" or "throughput")
    {
        var until = Stopwatch.StartNew();
        var turns = 0L;
        var failures = 0L;
        var workers = Enumerable.Range(0, 64).Select(async _ =>
        {
            while (until.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                try { await Turn(gatewayChat, chatBody); Interlocked.Increment(ref turns); }
                catch (HttpRequestException) { Interlocked.Increment(ref failures); }
            }
        }).ToArray();
        var rss = new Dictionary<string, long>();
        var split = new Dictionary<string, string>();
        await Task.Delay(TimeSpan.FromSeconds(seconds * 0.75));
        foreach (var service in services)
            foreach (var (pid, i) in stack.Pids(service).Select((p, i) => (p, i)))
            {
                rss[$"{service}#{i}"] = ResidentKb(pid);
                split[$"{service}#{i}"] = MemorySplit(pid);
                // BENCH_SMAPS=folder keeps each service's whole /proc/PID/smaps, to see which mappings hold the memory
                if (Environment.GetEnvironmentVariable("BENCH_SMAPS") is { Length: > 0 } smaps)
                    File.Copy($"/proc/{pid}/smaps", Path.Combine(Directory.CreateDirectory(smaps).FullName, $"{service}-{i}.smaps"), overwrite: true);
            }
        await Task.WhenAll(workers);
        Console.WriteLine($"throughput c=64 for {seconds} s through the gateway: {turns / until.Elapsed.TotalSeconds:F0} turns/s ({failures} failed)");
        Console.WriteLine("resident memory under that load: " + string.Join(", ", rss.Select(kv => $"{kv.Key} {kv.Value / 1024.0:F0} MB")));
        foreach (var (service, line) in split) Console.WriteLine($"  {service}: {line}");
    }

    if (what is "all" or "keychange")
    {
        // Two clocks per replica update: when the replica logged the rebuild (the "HH:mm:ss.fff" its console logger
        // writes, same machine clock), and when that line reached the bench through DCP's log stream.
        var delays = new List<double>();
        var arrivals = new List<double>();
        var replicas = chatReplicas.Count;
        for (var i = 0; i < 100; i++)
        {
            var seen = new Dictionary<string, (long At, TimeSpan Logged)>();
            var version = await CurrentVersion() + 1;
            var gate = new object();
            var all = new TaskCompletionSource();
            void OnLine(string line)
            {
                // "chat-xxxxxxxx: HH:mm:ss.fff info: … Provider clients rebuilt for settings version N"
                if (!line.StartsWith(ResourceNames.Chat + "-", StringComparison.Ordinal) || !line.Contains("rebuilt for settings version")) return;
                var at = Stopwatch.GetTimestamp();
                lock (gate)
                {
                    if (!line.Contains($"version {version}")) return;
                    var stamp = System.Text.RegularExpressions.Regex.Match(line, @"\b(\d{2}:\d{2}:\d{2}\.\d{3}) ");
                    seen.TryAdd(line[..line.IndexOf(':')], (at, stamp.Success ? TimeSpan.ParseExact(stamp.Groups[1].Value, @"hh\:mm\:ss\.fff", null) : TimeSpan.MinValue));
                    if (seen.Count == replicas) all.TrySetResult();
                }
            }
            stack.LineAdded += OnLine;
            var sentAt = DateTime.Now.TimeOfDay;
            var started = Stopwatch.GetTimestamp();
            var response = await http.PatchAsJsonAsync(new Uri(new Uri(gatewayUrl), "/settings"), new { ai_openai_compatible_api_key = $"sk-bench-{i + 2}" });
            response.EnsureSuccessStatusCode();
            await Task.WhenAny(all.Task, Task.Delay(5000));
            stack.LineAdded -= OnLine;
            lock (gate)
                foreach (var (at, logged) in seen.Values)
                {
                    arrivals.Add(Stopwatch.GetElapsedTime(started, at).TotalMilliseconds);
                    if (logged != TimeSpan.MinValue) delays.Add(((logged - sentAt).TotalMilliseconds + 86_400_000) % 86_400_000);
                }
        }
        Console.WriteLine($"key change → every replica, as logged by the replica ({delays.Count} replica updates): p50 {P(delays, 50):F1} ms, p99 {P(delays, 99):F1} ms, max {delays.Max():F1} ms");
        Console.WriteLine($"  the same lines as they reached the bench through DCP's log stream: p50 {P(arrivals, 50):F1} ms, p99 {P(arrivals, 99):F1} ms, max {arrivals.Max():F1} ms");
    }

    if (what is "all" or "settings")
    {
        // PATCH with a key change: validated, encrypted, committed with its outbox event (published right after).
        var patches = new List<double>();
        for (var i = 0; i < 300; i++)
        {
            var started = Stopwatch.GetTimestamp();
            (await http.PatchAsJsonAsync(new Uri(new Uri(gatewayUrl), "/settings"), new { ai_openai_compatible_api_key = $"sk-patch-{i}" })).EnsureSuccessStatusCode();
            patches.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        Console.WriteLine($"PATCH /settings with a key change, through the gateway (300): p50 {P(patches, 50):F2} ms, p95 {P(patches, 95):F2} ms");

        using var grpcChannel = Grpc.Net.Client.GrpcChannel.ForAddress(stack.Url(ResourceNames.Settings, "grpc"));
        var grpc = new AiAssistant.Contracts.Settings.AiSettings.AiSettingsClient(grpcChannel);
        var asService = new Grpc.Core.Metadata { { "authorization", "Bearer " + stack.Secret("internal.token") } };
        var calls = new List<double>();
        for (var i = 0; i < 2300; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await grpc.GetAiConfigAsync(new AiAssistant.Contracts.Settings.GetAiConfigRequest(), asService);
            if (i >= 300) calls.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        Console.WriteLine($"GetAiConfig over gRPC (2000 after warm-up): p50 {P(calls, 50):F3} ms, p95 {P(calls, 95):F3} ms");
    }

    if (what is "all" or "access")
    {
        // What the gateway does per request to authenticate, in process, caches warm (the 1 s invalidation aside).
        var key = Convert.FromBase64String(stack.Secret("jwt.key"));
        var tokens = new AiAssistant.ServiceDefaults.Access.AccessTokens(key, TimeSpan.FromMinutes(15), TimeProvider.System);
        var user = new AiAssistant.ServiceDefaults.Access.UserAccess("u-1", "r-1", false, true, "active");
        var redisOptions = StackExchange.Redis.ConfigurationOptions.Parse(await stack.ConnectionStringAsync(ResourceNames.Redis));
        AiAssistant.ServiceDefaults.Redis.RedisDefaults.Configure(redisOptions);
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redisOptions);
        var resolver = new AiAssistant.ServiceDefaults.Access.CallerResolver(tokens, new OneUserDirectory(user), redis, TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<AiAssistant.ServiceDefaults.Access.CallerResolver>.Instance);
        var jwt = tokens.Issue(user.ToCaller()).Token;
        foreach (var (label, token) in new[] { ("JWT", jwt), ("static token", "static-token-of-u-1") })
        {
            var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
            context.Request.Headers.Authorization = "Bearer " + token;
            var times = new List<double>();
            for (var i = 0; i < 22000; i++)
            {
                var started = Stopwatch.GetTimestamp();
                _ = await resolver.AuthenticateAsync(context) ?? throw new InvalidOperationException("not authenticated");
                if (i >= 2000) times.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }
            Console.WriteLine($"authenticate a request by {label}, cache warm (20000): p50 {P(times, 50):F1} µs, p95 {P(times, 95):F1} µs");
        }
    }

    // a lighter load than chat's: 90 s of it by default, see docs/benchmarks.md for what was measured
    if (what is "all" or "content") await ContentBench.RunAsync(gatewayUrl, adminToken, await stack.ConnectionStringAsync(ResourceNames.ContentDatabase), warmupArg ?? 90, seconds);

    if (what is "all" or "tools") await ToolsBench.RunAsync(gatewayUrl, chatReplicas[0], adminToken, simulator,
        stack.Url(ResourceNames.Tools, "grpc"), stack.Secret("internal.token"), stack.Telemetry, warmupArg ?? 90, seconds);

    if (what is "all" or "flows") await FlowsBench.RunAsync(gatewayUrl, adminToken, await stack.ConnectionStringAsync(ResourceNames.ContentDatabase), warmupArg ?? 30, seconds);
    if (what is "all" or "providers") await ProvidersBench.RunAsync(http, gatewayUrl, simulator, turns: seconds * 50, stops: 100);

    // the admin app in Debian's chromium: a token's way from the provider to the screen (bench/web/token-latency.mjs);
    // not part of "all": it needs `npm ci --prefix bench/web` and chromium, and repoints the compatible provider
    if (what == "web")
    {
        var script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../bench/web/token-latency.mjs"));
        var node = new ProcessStartInfo("node", script) { WorkingDirectory = Path.GetDirectoryName(script)! };
        node.Environment["GATEWAY_URL"] = gatewayUrl;
        node.Environment["ADMIN_TOKEN"] = adminToken;
        using var run = Process.Start(node)!;
        await run.WaitForExitAsync();
        if (run.ExitCode != 0) throw new InvalidOperationException($"{script} failed (exit {run.ExitCode})");
    }

    async Task Patch(object body) => (await http.PatchAsJsonAsync(new Uri(new Uri(gatewayUrl), "/settings"), body)).EnsureSuccessStatusCode();
    async Task<long> CurrentVersion()
    {
        await using var connection = new Npgsql.NpgsqlConnection(await stack.ConnectionStringAsync(ResourceNames.SettingsDatabase));
        await connection.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("select version from ai_settings where id = 1", connection);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
finally
{
    Console.WriteLine($"telemetry the services exported meanwhile: {stack.Telemetry.ReceivedBytes / 1048576.0:F0} MB in " +
                      string.Join(", ", stack.Telemetry.Requests.OrderBy(r => r.Key).Select(r => $"{r.Value} {r.Key} requests")));
    if (logFile is not null) await File.WriteAllLinesAsync(logFile, stack.Lines);
    await stack.DisposeAsync();
    Directory.Delete(folder, recursive: true);
}

static byte[] JsonContentBytes(object value) => Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(value));

// What the resident memory is made of (/proc/PID/smaps_rollup, MB): file pages (the runtime and assemblies, shared
// with every .NET process), anonymous (GC heap, JIT'd code, native), and PSS (shared pages divided among their users).
static string MemorySplit(int? pid)
{
    if (pid is null) return "";
    var fields = new Dictionary<string, long>();
    foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup").Skip(1))
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length >= 2 && long.TryParse(parts[1], out var kb)) fields[parts[0].TrimEnd(':')] = kb;
    }
    long F(string name) => fields.GetValueOrDefault(name) / 1024;
    return $"rss {F("Rss")}, pss {F("Pss")}, anonymous {F("Anonymous")}, file {F("Rss") - F("Anonymous")} " +
           $"(shared clean {F("Shared_Clean")}, private clean {F("Private_Clean")})";
}

static long ResidentKb(int? pid)
{
    if (pid is null) return 0;
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        if (line.StartsWith("VmRSS:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    return 0;
}

sealed class OneUserDirectory(AiAssistant.ServiceDefaults.Access.UserAccess user) : AiAssistant.ServiceDefaults.Access.IAccessDirectory
{
    public Task<AiAssistant.ServiceDefaults.Access.UserAccess?> FindUserAsync(string userId, CancellationToken ct) =>
        Task.FromResult<AiAssistant.ServiceDefaults.Access.UserAccess?>(userId == user.Id ? user : null);

    public Task<AiAssistant.ServiceDefaults.Access.UserAccess?> FindByStaticTokenAsync(string tokenSha256, CancellationToken ct) =>
        Task.FromResult<AiAssistant.ServiceDefaults.Access.UserAccess?>(user);
}
