using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using AiAssistant.ProviderSimulator;
using AiAssistant.Tests.Infrastructure;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

[CollectionDefinition(Name)]
public sealed class EndToEndCollection : ICollectionFixture<EndToEndFixture>
{
    public const string Name = "end-to-end";
}

/// <summary>
/// The whole system started by the real AppHost through Aspire.Hosting.Testing: its own PostgreSQL, Redis and RabbitMQ,
/// Settings, Tools, two Chat replicas and the Gateway, each its own process, and the provider simulator.
/// </summary>
public sealed class EndToEndFixture : IAsyncLifetime
{
    public string Folder { get; } = TestFolders.Create("e2e");
    /// <summary>The largest file Tools takes in these tests (<c>Files:MaxFileBytes</c>).</summary>
    public const long MaxFileBytes = 2 * 1024 * 1024;
    public string AdminToken { get; } = "admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
    public RunningApp App { get; private set; } = null!;
    public SimulatorServer Simulator { get; private set; } = null!;
    public HttpClient Gateway { get; private set; } = null!;
    public string GatewayUrl { get; private set; } = null!;
    public string SettingsUrl { get; private set; } = null!;
    public string SettingsGrpcUrl { get; private set; } = null!;
    public string ToolsUrl { get; private set; } = null!;
    /// <summary>Each Chat replica by its own address, and the name it answers with in X-Served-By.</summary>
    public IReadOnlyList<ChatReplica> ChatReplicas { get; private set; } = null!;
    public PostgresHandle Postgres { get; private set; } = null!;
    public ServerHandle RabbitMq { get; private set; } = null!;
    /// <summary>The service credential the AppHost generated into the data folder.</summary>
    public string InternalToken => App.Secret("internal.token");

    /// <summary>Every provider key a test stored: none may appear in data files, logs or messages.</summary>
    public List<string> KeysUsed { get; } = [];

    public async Task InitializeAsync()
    {
        Simulator = await SimulatorServer.StartAsync();
        // As if the AppHost were started with ADMIN_TOKEN set: the first admin's static token.
        // As if ./run.sh were started with ADMIN_TOKEN and the built-in providers' base URLs set: the AppHost passes
        // them on, so OpenAI, Anthropic and Gemini talk to the simulator instead of their APIs.
        App = await RunningApp.StartAsync(Folder, ["--port", "0", "--chat-replicas", "2", "--ADMIN_TOKEN", AdminToken,
                "--AI_OPENAI_BASE_URL", Simulator.BaseUrl, "--AI_ANTHROPIC_BASE_URL", Simulator.BaseUrl,
                "--AI_GOOGLE_BASE_URL", $"http://127.0.0.1:{Simulator.Port}/v1beta"],
            [ResourceNames.Gateway],
            builder =>
            {
                // imports from the test's own HTTP server by the name localhost (127.0.0.1 itself stays refused),
                // and a small file limit so the oversize cases stay small
                builder.CreateResourceBuilder<ProjectResource>(ResourceNames.Tools)
                    .WithEnvironment("Files__Import__AllowedHosts__0", "localhost")
                    .WithEnvironment("Files__MaxFileBytes", MaxFileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
                // the gateway refuses a body past the file limit before Tools has to (Tools takes the file and 1 MiB of form)
                builder.CreateResourceBuilder<ProjectResource>(ResourceNames.Gateway)
                    .WithEnvironment("ReverseProxy__Routes__files__Metadata__MaxRequestBodySize",
                        (MaxFileBytes + 512 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
            });
        GatewayUrl = App.Url(ResourceNames.Gateway);
        SettingsUrl = App.Url(ResourceNames.Settings);
        SettingsGrpcUrl = App.Url(ResourceNames.Settings, "grpc");
        ToolsUrl = App.Url(ResourceNames.Tools);
        ChatReplicas = await ChatReplica.FindAsync(App);
        Postgres = await PostgresHandle.StartedAsync(App, ResourceNames.Postgres);
        RabbitMq = await ServerHandle.RabbitMqAsync(App, ResourceNames.RabbitMq);
        Gateway = Client(GatewayUrl);
    }

    public HttpClient Client(string baseUrl)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>POSTs <paramref name="body"/> as the admin; a failure fails the test with the answer.</summary>
    public async Task PostAsync(string path, object body)
    {
        using var response = await Gateway.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>One number from the content database (counts, keys), read past every service.</summary>
    public Task<long> ContentScalarAsync(string sql) => ScalarAsync("content", sql);

    /// <summary>One number from Chat's database (the usage ledger), read past every service.</summary>
    public Task<long> ChatScalarAsync(string sql) => ScalarAsync("chat", sql);

    private async Task<long> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(Postgres.ConnectionStringFor(database));
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The <c>extensions.code</c> of a Directus error envelope.</summary>
    public static async Task<string> ErrorCodeAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!["extensions"]!["code"]!.GetValue<string>();

    /// <summary>A fresh random provider key, remembered for the leak checks.</summary>
    public string NewKey()
    {
        var key = "sk-test-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        lock (KeysUsed) KeysUsed.Add(key);
        return key;
    }

    public async Task<JsonObject> PatchSettingsAsync(object body)
    {
        using var response = await Gateway.PatchAsJsonAsync("/settings", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PATCH /settings answered {(int)response.StatusCode}: {text}");
        return (JsonObject)JsonNode.Parse(text)!["data"]!;
    }

    /// <summary>Chats on one replica directly and returns the Authorization header the provider received.</summary>
    public async Task<string?> KeySeenFromAsync(string replicaUrl)
    {
        // A unique probe text finds this turn's provider request even while other probes run at the same time.
        var probeId = "probe-" + Guid.NewGuid().ToString("N");
        using var client = Client(replicaUrl);
        using (var probe = await client.PostAsJsonAsync("/ai/chat", ChatBody("Which key do you see? " + probeId)))
        {
            // A replica that has not yet seen the first configuration answers 503 (no provider configured).
            if (probe.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable) return null;
            Assert.True(probe.IsSuccessStatusCode, $"POST /ai/chat answered {(int)probe.StatusCode}");
            Assert.True(ChatStream.Parse(await probe.Content.ReadAsStringAsync(), null).Done);
        }
        var request = Assert.Single(Simulator.Requests, r => r.Body.Contains(probeId));
        return request.Headers.TryGetValue("Authorization", out var auth) ? auth : null;
    }

    /// <summary>Waits until every replica sends <paramref name="key"/> to the provider, for at most <paramref name="within"/>.</summary>
    public async Task<IReadOnlyCollection<string>> ReplicasNotUsingAsync(string key, TimeSpan within)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var pending = ChatReplicas.Select(r => r.HttpUrl).ToHashSet();
        do
        {
            // Probe the replicas side by side, so one slow answer does not eat another replica's time.
            var rounds = await Task.WhenAll(pending.Select(async url => (url, seen: await KeySeenFromAsync(url))));
            foreach (var (url, seen) in rounds)
                if (seen == $"Bearer {key}") pending.Remove(url);
        }
        while (pending.Count > 0 && started.Elapsed < within);
        return pending;
    }

    /// <summary>Points the OpenAI-compatible provider at the simulator with a new key and waits until every replica uses it.</summary>
    public async Task<string> UseNewKeyAsync()
    {
        var key = NewKey();
        await PatchSettingsAsync(new
        {
            ai_openai_compatible_name = "simulator",
            ai_openai_compatible_base_url = Simulator.BaseUrl,
            ai_openai_compatible_api_key = key,
        });
        Assert.Empty(await ReplicasNotUsingAsync(key, TimeSpan.FromSeconds(10)));
        return key;
    }

    /// <summary>
    /// Gives a built-in provider a new key, adds <paramref name="model"/> to its allowed models (other tests rely on the
    /// ones there), and waits until every replica answers a turn on it; returns the key.
    /// </summary>
    public async Task<string> EnableBuiltInProviderAsync(string provider, string model)
    {
        var key = NewKey();
        var settings = JsonNode.Parse(await Gateway.GetStringAsync("/settings"))!["data"]!;
        var allowed = (settings[$"ai_{provider}_allowed_models"] as JsonArray)?.Select(m => m!.GetValue<string>()).ToList() ?? [];
        await PatchSettingsAsync(new Dictionary<string, object>
        {
            [$"ai_{provider}_api_key"] = key,
            [$"ai_{provider}_allowed_models"] = allowed.Append(model).Distinct().ToArray(),
        });
        // every replica has the key once the provider receives it from each (a replica without a key answers 503,
        // one that has not yet heard of the change sends the old key)
        foreach (var replica in ChatReplicas)
        {
            using var direct = Client(replica.HttpUrl);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            var uses = false;
            do
            {
                var probeId = "ready-" + Guid.NewGuid().ToString("N");
                Simulator.Enqueue(SimulatedReply.Text("Ready."));
                using var probe = await direct.PostAsJsonAsync("/ai/chat", ChatBody(provider, model, probeId));
                await probe.Content.ReadAsStringAsync();
                uses = probe.IsSuccessStatusCode && Simulator.Requests.Any(r => r.Body.Contains(probeId, StringComparison.Ordinal)
                    && r.Headers.Values.Any(v => v.Contains(key, StringComparison.Ordinal)));
            }
            while (!uses && DateTime.UtcNow < deadline);
            Assert.True(uses, $"replica {replica.Name} did not use the new {provider} key within 10 s");
        }
        Simulator.ClearReplies();
        return key;
    }

    /// <summary>A one-message chat body for <paramref name="provider"/>'s <paramref name="model"/>, with no tools.</summary>
    public static object ChatBody(string provider, string model, string text) => new
    {
        provider, model, tools = Array.Empty<string>(),
        messages = new[] { new { id = "m1", role = "user", parts = new[] { new { type = "text", text } } } },
    };

    public static object ChatBody(string text, params string[] tools) => new
    {
        provider = "openai-compatible",
        model = "sim-model",
        tools,
        messages = new[] { new { id = "m1", role = "user", parts = new[] { new { type = "text", text } } } },
    };

    /// <summary>Posts a chat turn and reads the whole UI message stream.</summary>
    public static async Task<ChatStream> ChatAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/ai/chat", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /ai/chat answered {(int)response.StatusCode}: {text}");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("v1", response.Headers.GetValues("x-vercel-ai-ui-message-stream").Single());
        var servedBy = response.Headers.TryGetValues("X-Served-By", out var v) ? v.Single() : null;
        return ChatStream.Parse(text, servedBy);
    }

    public async Task DisposeAsync()
    {
        Gateway?.Dispose();
        if (App is not null) await App.DisposeAsync();
        if (Simulator is not null) await Simulator.DisposeAsync();
        TestFolders.Delete(Folder);
    }
}

/// <summary>A UI message stream read to its end: its JSON chunks in order and whether it ended with [DONE].</summary>
public sealed record ChatStream(IReadOnlyList<JsonObject> Chunks, bool Done, string? ServedBy)
{
    public static ChatStream Parse(string sse, string? servedBy)
    {
        var chunks = new List<JsonObject>();
        var done = false;
        foreach (var frame in sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", frame);
            var data = frame["data: ".Length..];
            if (data == "[DONE]") { done = true; continue; }
            Assert.False(done, "a chunk came after [DONE]");
            chunks.Add((JsonObject)JsonNode.Parse(data)!);
        }
        return new ChatStream(chunks, done, servedBy);
    }

    public IEnumerable<string> Types => Chunks.Select(c => c["type"]!.GetValue<string>());

    public string Text => string.Concat(Chunks.Where(c => c["type"]!.GetValue<string>() == "text-delta").Select(c => c["delta"]!.GetValue<string>()));

    public JsonObject Single(string type) => Assert.Single(Chunks, c => c["type"]!.GetValue<string>() == type);
}

/// <summary>A Chat replica reached directly, and its name (what it answers in X-Served-By).</summary>
public sealed record ChatReplica(string Name, string HttpUrl)
{
    public static async Task<IReadOnlyList<ChatReplica>> FindAsync(RunningApp app)
    {
        using var http = new HttpClient();
        var replicas = new List<ChatReplica>();
        foreach (var url in app.ReplicaUrls(ResourceNames.Chat))
        {
            using var health = await http.GetAsync($"{url}/health");
            replicas.Add(new ChatReplica(health.Headers.GetValues("X-Served-By").Single(), url));
        }
        Assert.True(replicas.Count == 2, $"expected 2 chat replicas, found {replicas.Count}: {string.Join(", ", replicas)}");
        return replicas;
    }
}
