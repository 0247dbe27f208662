using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using AiAssistant.Contracts;
using AiAssistant.ProviderSimulator;
using AiAssistant.Tests.Faults;
using AiAssistant.Tests.Infrastructure;
using static Measure;

/// <summary>
/// Issue 13's targets, each on stacks of its own (so this mode starts before, and instead of, the shared one):
/// <c>kills</c> — ten Chat replica kills under load through the gateway, the time from each death to the last failed
/// turn; <c>scaling</c> — chat turns per second through the gateway with 1, 2 and 3 Chat replicas.
/// </summary>
static class FaultsBench
{
    public static async Task RunAsync(int seconds, int warmup)
    {
        await KillsAsync();
        foreach (var replicas in new[] { 1, 2, 3 }) await ScalingAsync(replicas, seconds, warmup);
    }

    private static async Task KillsAsync()
    {
        await using var simulator = await SimulatorServer.StartAsync();
        simulator.RequestLimit = 0;
        // a turn streams for about half a second, so each kill finds streams in flight
        simulator.DefaultPacing = new Pacing(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(10));
        await using var stack = await StackAsync(2, simulator);
        await using var load = LoadRun.Start(8, stack.TurnAsync);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var recoveries = new List<double>();
        var cut = 0;
        var later = 0;
        for (var kill = 0; kill < 10; kill++)
        {
            var victim = stack.App.Instances(ResourceNames.Chat)[kill % 2];
            var killedAt = load.Now;
            await stack.App.KillAsync(victim);
            await Task.Delay(TimeSpan.FromSeconds(4));
            await stack.App.StartInstanceAsync(victim);
            await Task.Delay(TimeSpan.FromSeconds(4)); // the gateway's probe puts it back; load reaches both again
            var failures = load.Outcomes.Where(o => !o.Ok && o.Ended >= killedAt && o.Started < killedAt + TimeSpan.FromSeconds(4)).ToList();
            cut += failures.Count(f => f.Started < killedAt);
            later += failures.Count(f => f.Started >= killedAt);
            recoveries.Add(failures.Count == 0 ? 0 : (failures.Max(f => f.Ended) - killedAt).TotalMilliseconds);
        }
        await load.StopAsync();
        var outcomes = load.Outcomes;
        Console.WriteLine($"kills: 10 Chat replica kills under 8 concurrent turns through the gateway: {outcomes.Count} turns, " +
            $"{outcomes.Count(o => !o.Ok)} failed ({cut} in flight on the killed replica, {later} started after a kill); " +
            $"death → last failed turn ended p50 {P(recoveries, 50):F0} ms, p99 {P(recoveries, 99):F0} ms, max {recoveries.Max():F0} ms  [{Load()}]");
    }

    private static async Task ScalingAsync(int replicas, int seconds, int warmup)
    {
        await using var simulator = await SimulatorServer.StartAsync();
        simulator.RequestLimit = 0;
        await using var stack = await StackAsync(replicas, simulator);
        await using (var warm = LoadRun.Start(64, stack.TurnAsync)) await Task.Delay(TimeSpan.FromSeconds(warmup));
        await using var load = LoadRun.Start(64, stack.TurnAsync);
        var from = load.Now;
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var to = load.Now;
        await load.StopAsync();
        var done = load.Outcomes.Where(o => o.Ended >= from && o.Ended <= to).ToList();
        Console.WriteLine($"scaling: {replicas} Chat replica(s), 64 concurrent turns through the gateway for {seconds} s: " +
            $"{done.Count(o => o.Ok) / (to - from).TotalSeconds:F0} turns/s, {done.Count(o => !o.Ok)} failed  [{Load()}]");
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Trim();

    private static async Task<Stack> StackAsync(int replicas, SimulatorServer simulator)
    {
        var folder = Path.Combine(Path.GetTempPath(), "aiassistant-bench-faults-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var adminToken = "bench-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        Console.WriteLine($"starting a stack with {replicas} Chat replica(s)…");
        var app = await RunningApp.StartAsync(folder, ["--port", "0", "--chat-replicas", replicas.ToString(), "--ADMIN_TOKEN", adminToken], [ResourceNames.Gateway]);
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseProxy = false })
        {
            BaseAddress = new Uri(app.Url(ResourceNames.Gateway)), Timeout = TimeSpan.FromSeconds(60),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        (await http.PatchAsJsonAsync("/settings", new
        {
            ai_openai_compatible_name = "simulator", ai_openai_compatible_base_url = simulator.BaseUrl, ai_openai_compatible_api_key = "sk-bench-faults",
        })).EnsureSuccessStatusCode();
        await Task.Delay(1500);
        return new Stack(app, http, folder);
    }

    private sealed record Stack(RunningApp App, HttpClient Http, string Folder) : IAsyncDisposable
    {
        private static readonly object Body = new
        {
            provider = "openai-compatible", model = "sim-model", tools = Array.Empty<string>(),
            messages = new[] { new { id = "m1", role = "user", parts = new[] { new { type = "text", text = "Hello" } } } },
        };

        public async Task<LoadRun.Result> TurnAsync(CancellationToken ct)
        {
            using var response = await Http.PostAsJsonAsync("/ai/chat", Body, ct);
            var servedBy = response.Headers.TryGetValues("X-Served-By", out var v) ? v.Single() : null;
            string text;
            try { text = await response.Content.ReadAsStringAsync(ct); }
            catch (Exception e) when (e is IOException or HttpRequestException) { return new(false, (int)response.StatusCode, servedBy, "cut"); }
            var ok = response.IsSuccessStatusCode && text.Contains("\"type\":\"finish\"", StringComparison.Ordinal)
                && text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal) && !text.Contains("\"type\":\"error\"", StringComparison.Ordinal);
            return new(ok, (int)response.StatusCode, servedBy, ok ? "finished" : text[..Math.Min(200, text.Length)]);
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await App.DisposeAsync();
            try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
        }
    }
}
