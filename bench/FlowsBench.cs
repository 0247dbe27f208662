using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using static Measure;

/// <summary>
/// Issue 12's targets, through the gateway on the shared stack: an <c>action</c> event flow on items.create of one
/// collection with one <c>item-create</c> operation writing into another. Latency is read from the content database:
/// the two writes' activity rows are stamped with their transactions' start (PostgreSQL's <c>now()</c>, microseconds),
/// each at the same point of the same write path, so their difference is the one commit to the other (plus the
/// operation's own write before its commit, minus the trigger's). Throughput is flow runs per second while writers
/// keep creating items one per request, from the first write to the last operation's commit.
/// </summary>
static class FlowsBench
{
    public static async Task RunAsync(string gatewayUrl, string adminToken, string contentDatabase, int warmup, int seconds)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseProxy = false };
        using var admin = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(gatewayUrl), Timeout = TimeSpan.FromSeconds(60) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (source, target) = ($"bench_flow_src_{suffix}", $"bench_flow_dst_{suffix}");
        await SendAsync(admin, HttpMethod.Post, "/collections", new { collection = source, schema = new { }, fields = new object[] { new { field = "title", type = "string" } } });
        await SendAsync(admin, HttpMethod.Post, "/collections", new { collection = target, schema = new { }, fields = new object[] { new { field = "source", type = "integer" } } });
        var operation = Guid.NewGuid().ToString();
        await SendAsync(admin, HttpMethod.Post, "/flows", new
        {
            name = "bench " + suffix, trigger = "event", accountability = "all",
            options = new { type = "action", scope = new[] { "items.create" }, collections = new[] { source } },
            operation,
            operations = new[]
            {
                new { id = operation, key = "copy", type = "item-create", options = new { collection = target, permissions = "$full", payload = new { source = "{{ $trigger.key }}" } } },
            },
        });
        await using var data = NpgsqlDataSource.Create(contentDatabase);
        var written = 0L;

        async Task WriteAsync()
        {
            using var response = await admin.PostAsJsonAsync($"/items/{source}", new { title = "x" });
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /items/{source}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Interlocked.Increment(ref written);
        }

        async Task<long> CopiedAsync()
        {
            await using var cmd = data.CreateCommand($"select count(*) from \"{target}\"");
            return (long)(await cmd.ExecuteScalarAsync())!;
        }

        async Task<bool> DrainedAsync(TimeSpan within)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < within)
            {
                if (await CopiedAsync() >= Interlocked.Read(ref written)) return true;
                await Task.Delay(20);
            }
            return false;
        }

        /// <summary>Commit to commit, per copied item whose source id is above <paramref name="after"/>.</summary>
        async Task<(List<double> Latencies, double Span)> ReadAsync(long after)
        {
            await using var cmd = data.CreateCommand($"""
                select extract(epoch from (c.timestamp - s.timestamp)) * 1000, extract(epoch from (max(c.timestamp) over () - min(s.timestamp) over ()))
                from "{target}" d
                join content_activity c on c.collection = '{target}' and c.action = 'create' and c.item = d.id::text
                join content_activity s on s.collection = '{source}' and s.action = 'create' and s.item = d.source::text
                where d.source > {after}
                """);
            await using var reader = await cmd.ExecuteReaderAsync();
            var latencies = new List<double>();
            var span = 0.0;
            while (await reader.ReadAsync())
            {
                latencies.Add(Convert.ToDouble(reader.GetValue(0)));
                span = Convert.ToDouble(reader.GetValue(1));
            }
            return (latencies, span);
        }

        async Task<long> LastSourceAsync()
        {
            await using var cmd = data.CreateCommand($"select coalesce(max(id), 0) from \"{source}\"");
            return Convert.ToInt64(await cmd.ExecuteScalarAsync());
        }

        Console.WriteLine($"flows: warming up for {warmup} s (16 writers, one item per request)…");
        await LoadAsync(16, TimeSpan.FromSeconds(warmup), WriteAsync);
        if (!await DrainedAsync(TimeSpan.FromSeconds(120))) throw new InvalidOperationException("flows: the warm-up's runs did not finish");

        // latency: one write at a time, each a few ms after the last answer, so the runs do not queue behind each other
        var before = await LastSourceAsync();
        for (var i = 0; i < 1000; i++)
        {
            await WriteAsync();
            await Task.Delay(5);
        }
        if (!await DrainedAsync(TimeSpan.FromSeconds(60))) throw new InvalidOperationException("flows: the latency runs did not finish");
        var (alone, _) = await ReadAsync(before);
        Console.WriteLine($"flows: write commit → item-create commit, {alone.Count} writes one at a time: {Percentiles(alone)} (load {Load()})");

        foreach (var writers in new[] { 8, 32 })
        {
            before = await LastSourceAsync();
            var started = written;
            var clock = Stopwatch.StartNew();
            await LoadAsync(writers, TimeSpan.FromSeconds(seconds), WriteAsync);
            var writing = clock.Elapsed.TotalSeconds;
            // where the backlog is when the writers stop: still in the outbox, or published and waiting for a run
            long unsent, copied;
            await using (var cmd = data.CreateCommand("select count(*) from outbox_messages where sent_at is null")) unsent = (long)(await cmd.ExecuteScalarAsync())!;
            copied = await CopiedAsync();
            Console.WriteLine($"flows: when the {writers} writers stopped: {written - copied} runs behind, {unsent} of them not yet sent from the outbox");
            var drained = await DrainedAsync(TimeSpan.FromSeconds(180));
            var (loaded, span) = await ReadAsync(before);
            Console.WriteLine($"flows: {writers} writers for {seconds} s: {written - started} writes ({(written - started) / writing:F0}/s), " +
                              $"{loaded.Count} flow runs in {span:F1} s from the first write to the last copy = {loaded.Count / span:F0} runs/s" +
                              $"{(drained ? "" : " (not all finished within 180 s)")}; commit → commit {Percentiles(loaded)} (load {Load()})");
        }
    }

    private static async Task LoadAsync(int writers, TimeSpan duration, Func<Task> write)
    {
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async _ =>
        {
            while (clock.Elapsed < duration) await write();
        }));
    }

    private static async Task<JsonNode> SendAsync(HttpClient client, HttpMethod method, string path, object body)
    {
        using var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) });
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    private static string Percentiles(List<double> times) =>
        times.Count == 0 ? "no runs" : $"p50 {P(times, 50):F2} ms p95 {P(times, 95):F2} ms p99 {P(times, 99):F2} ms max {times.Max():F2} ms";

    private static string Load() => File.ReadAllText("/proc/loadavg").Trim();
}
