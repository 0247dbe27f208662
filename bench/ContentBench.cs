using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static Measure;

/// <summary>
/// The content store's targets (issue 8), through the gateway: a read of 100 items with a filter, a sort and one m2o
/// join, as the admin and as a user whose grant has a row filter and a field list (the same 100 items either way), at
/// c=1 and c=16; and a create of 1,000 items in one request. Seeds its own collections: authors (100) and articles
/// (10,000, m2o author), and bulk_articles (same shape) for the creates, so the read set does not grow. Last, the reads
/// again with an index made by hand, to tell PostgreSQL's share from the services'.
/// </summary>
static class ContentBench
{
    public static async Task RunAsync(string gatewayUrl, string adminToken, string contentDatabase, int warmup, int seconds)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseProxy = false };
        using var admin = Client(handler, gatewayUrl, adminToken);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (authors, articles, bulk) = ($"bench_authors_{suffix}", $"bench_articles_{suffix}", $"bench_bulk_{suffix}");

        Console.WriteLine("content: seeding 100 authors and 10,000 articles…");
        await SendAsync(admin, HttpMethod.Post, "/collections", new { collection = authors, schema = new { }, fields = new object[] { new { field = "name", type = "string" } } });
        foreach (var collection in new[] { articles, bulk })
        {
            await SendAsync(admin, HttpMethod.Post, "/collections", new
            {
                collection, schema = new { },
                fields = new object[]
                {
                    new { field = "title", type = "string" }, new { field = "views", type = "integer" },
                    new { field = "status", type = "string" }, new { field = "author", type = "integer" },
                },
            });
            await SendAsync(admin, HttpMethod.Post, "/relations", new { collection, field = "author", related_collection = authors, meta = new { one_field = collection + "_list" } });
        }
        var authorIds = (await SendAsync(admin, HttpMethod.Post, $"/items/{authors}?fields=id",
            Enumerable.Range(0, 100).Select(i => new { name = $"Author {i}" }).ToArray()))["data"]!.AsArray().Select(a => a!["id"]!.GetValue<long>()).ToArray();
        var random = new Random(8);
        object[] Articles(int count, int from) => Enumerable.Range(from, count).Select(i => (object)new
        {
            title = $"Article {i}", views = random.Next(0, 100_000), status = i % 2 == 0 ? "published" : "draft", author = authorIds[i % authorIds.Length],
        }).ToArray();
        for (var batch = 0; batch < 10; batch++) await SendAsync(admin, HttpMethod.Post, $"/items/{articles}?fields=id", Articles(1000, batch * 1000));

        // a user whose grant admits every article (a row filter that costs what a real one costs) and lists the fields
        var policy = (await SendAsync(admin, HttpMethod.Post, "/policies", new { name = "bench-reader-" + suffix, app_access = true, admin_access = false }))["data"]!["id"]!.GetValue<string>();
        var role = (await SendAsync(admin, HttpMethod.Post, "/roles", new { name = "bench-reader-" + suffix, policies = new[] { new { policy } } }))["data"]!["id"]!.GetValue<string>();
        var token = "bench-user-" + suffix;
        await SendAsync(admin, HttpMethod.Post, "/users", new { email = $"reader-{suffix}@example.com", password = "pw-" + Guid.NewGuid().ToString("N"), role, token });
        await SendAsync(admin, HttpMethod.Post, "/permissions", new
        {
            policy, collection = articles, action = "read", permissions = new { views = new { _gte = 0 } }, fields = new[] { "id", "title", "views", "status", "author" },
        });
        await SendAsync(admin, HttpMethod.Post, "/permissions", new { policy, collection = authors, action = "read", permissions = new { }, fields = new[] { "id", "name" } });
        using var user = Client(handler, gatewayUrl, token);

        var read = $"/items/{articles}?filter[status][_eq]=published&sort=-views&limit=100&fields=id,title,views,author.name";
        var asAdmin = await admin.GetStringAsync(read);
        var clock = Stopwatch.StartNew();
        string? asUser = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            using var response = await user.GetAsync(read);
            if (response.IsSuccessStatusCode) { asUser = await response.Content.ReadAsStringAsync(); break; }
            await Task.Delay(25);
        }
        if (asUser != asAdmin) throw new InvalidOperationException("the user's read does not answer the admin's 100 items: " + asUser?[..Math.Min(asUser.Length, 300)]);
        Console.WriteLine($"content: the read ({read}) answers the same {JsonNode.Parse(asAdmin)!["data"]!.AsArray().Count} items to the admin and to the user");

        var createBody = JsonContent.Create(Articles(1000, 0));
        await createBody.LoadIntoBufferAsync();
        var createBytes = await createBody.ReadAsByteArrayAsync();
        async Task<double> Create()
        {
            using var content = new ByteArrayContent(createBytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return await TimedAsync(() => admin.PostAsync($"/items/{bulk}", content));
        }

        if (warmup > 0)
        {
            Console.WriteLine($"content: warming up for {warmup} s (14 readers alternating admin and user, 1 creating 1,000 at a time)… load {Load()}");
            var warm = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 15).Select(async n =>
            {
                while (warm.Elapsed < TimeSpan.FromSeconds(warmup))
                    if (n == 0) await Create();
                    else await TimedAsync(() => (n % 2 == 0 ? admin : user).GetAsync(read));
            }));
        }

        async Task MeasureReadsAsync(string what)
        {
            Console.WriteLine($"content: measuring {what}, load {Load()}");
            var (adminTimes, userTimes) = (new List<double>(), new List<double>());
            for (var i = 0; i < 2000; i++)
            {
                adminTimes.Add(await TimedAsync(() => admin.GetAsync(read)));
                userTimes.Add(await TimedAsync(() => user.GetAsync(read)));
            }
            Console.WriteLine($"read 100 (filter, sort, m2o) c=1, 2000 each: admin {Percentiles(adminTimes)}; user with row filter + field list {Percentiles(userTimes)}");
            Console.WriteLine($"  permission checks add: p50 {Overhead(userTimes, adminTimes, 50):F1} %, p95 {Overhead(userTimes, adminTimes, 95):F1} %");

            foreach (var (label, client) in new[] { ("admin", admin), ("user", user) })
            {
                var times = new System.Collections.Concurrent.ConcurrentBag<double>();
                var failures = 0;
                var run = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
                {
                    while (run.Elapsed < TimeSpan.FromSeconds(seconds))
                        try { times.Add(await TimedAsync(() => client.GetAsync(read))); }
                        catch (HttpRequestException) { Interlocked.Increment(ref failures); }
                }));
                Console.WriteLine($"read 100 c=16 for {seconds} s as {label}: {times.Count / run.Elapsed.TotalSeconds:F0} reads/s ({failures} failed), {Percentiles(times.ToList())}; load {Load()}");
            }
        }

        await MeasureReadsAsync("the reads");
        var creates = new List<double>();
        for (var i = 0; i < 10; i++) creates.Add(await Create());
        Console.WriteLine($"create 1,000 items in one request (10, c=1, answer read back): {Percentiles(creates)}, max {creates.Max():F1} ms; load {Load()}");

        // What PostgreSQL's share is: without an index the read above scans and sorts the 10,000 rows. The same reads
        // again after the schema API indexes the sort field (Directus's schema.is_indexed), statistics refreshed.
        await SendAsync(admin, HttpMethod.Patch, $"/fields/{articles}/views", new { schema = new { is_indexed = true } });
        await using (var connection = new Npgsql.NpgsqlConnection(contentDatabase))
        {
            await connection.OpenAsync();
            await using var analyze = new Npgsql.NpgsqlCommand($"analyze \"{articles}\"", connection);
            await analyze.ExecuteNonQueryAsync();
        }
        await MeasureReadsAsync($"the reads with views indexed through PATCH /fields (is_indexed)");
    }

    private static HttpClient Client(HttpMessageHandler handler, string baseUrl, string token)
    {
        var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<JsonNode> SendAsync(HttpClient client, HttpMethod method, string path, object body)
    {
        using var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) });
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    /// <summary>One request until its whole answer is read; a failure status throws.</summary>
    private static async Task<double> TimedAsync(Func<Task<HttpResponseMessage>> send)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await send();
        await response.Content.LoadIntoBufferAsync();
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static string Percentiles(List<double> times) => $"p50 {P(times, 50):F2} ms p95 {P(times, 95):F2} ms p99 {P(times, 99):F2} ms";

    private static double Overhead(List<double> user, List<double> admin, int percentile) => (P(user, percentile) / P(admin, percentile) - 1) * 100;

    private static string Load() => File.ReadAllText("/proc/loadavg").Trim();
}
