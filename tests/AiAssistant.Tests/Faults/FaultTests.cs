using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.ProviderSimulator;
using AiAssistant.Tests.EndToEnd;
using AiAssistant.Tests.Infrastructure;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.Faults;

/// <summary>
/// The fault suite: each fault happens on the real AppHost while chat turns run through the gateway, and every
/// request's outcome is counted; the figures go to docs/reliability.md.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class FaultTests(FaultFixture faults)
{
    private const int Workers = 4;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(2);
    /// <summary>The gateway's health checks notice a replica's death within this (the issue's bound).</summary>
    private static readonly TimeSpan Noticed = TimeSpan.FromSeconds(2);

    private EndToEndFixture Stack => faults.Stack;

    [Fact]
    public async Task A_chat_replica_killed_mid_stream_cuts_only_its_own_streams_and_takes_traffic_again_once_restarted()
    {
        var replicas = Stack.App.Instances(ResourceNames.Chat);
        Assert.Equal(2, replicas.Count);
        var (victim, survivor) = (replicas[0], replicas[1]);
        var victimName = await ServedByAsync(victim.HttpUrl!);
        var survivorName = await ServedByAsync(survivor.HttpUrl!);

        await using var load = LoadRun.Start(Workers, faults.ChatTurnAsync);
        Assert.True(await load.WaitForAsync(o => o.Any(x => x.Ok && x.ServedBy == victimName) && o.Any(x => x.Ok && x.ServedBy == survivorName), Warmup * 10),
            "both replicas take turns through the gateway");
        var killedAt = load.Now;
        await Stack.App.KillAsync(victim);
        await Task.Delay(Noticed * 3);

        var restartedAt = load.Now;
        await Stack.App.StartInstanceAsync(victim);
        var readyAt = load.Now;
        var servedAgain = await load.WaitForAsync(o => o.Any(x => x.Ok && x.Started > readyAt && x.ServedBy is { } by && by != survivorName && by != victimName),
            TimeSpan.FromSeconds(20));
        var backAt = load.Outcomes.FirstOrDefault(x => x.Ok && x.Started > readyAt && x.ServedBy != survivorName)?.Started;
        await Task.Delay(Warmup);
        await load.StopAsync();

        var outcomes = load.Outcomes;
        var failures = outcomes.Where(o => !o.Ok).ToList();
        ReliabilityReport.Record("Chat replica killed mid-stream", outcomes, failures.Count > 0 ? failures.Max(f => f.Ended) - killedAt : TimeSpan.Zero,
            $"{failures.Count(f => f.Started < killedAt)} in flight on the killed replica cut; restarted replica served again " +
            (backAt is { } b ? $"{(b - readyAt).TotalSeconds:F1} s after it was healthy ({(readyAt - restartedAt).TotalSeconds:F1} s to start)" : "never"));

        // only what was in flight on the killed replica (or had no answer yet) may fail, and nothing once it is noticed
        Assert.All(failures, f => Assert.True(f.Started < killedAt && f.ServedBy != survivorName, $"killed at {killedAt.TotalSeconds:F2} s: {f}"));
        Assert.True(servedAgain, $"the restarted replica took no traffic: served by {string.Join(", ", outcomes.Where(o => o.Started > readyAt).Select(o => o.ServedBy).Distinct())}");

        // with the current key
        var restarted = Stack.App.Instances(ResourceNames.Chat).Single(i => i.Id == victim.Id);
        Assert.Equal($"Bearer {faults.Key}", await Stack.KeySeenFromAsync(restarted.HttpUrl!));
    }

    [Fact]
    public async Task A_rolling_restart_of_settings_tools_and_each_chat_replica_fails_no_turn()
    {
        await using var load = LoadRun.Start(Workers, faults.ChatTurnAsync);
        await Task.Delay(Warmup);
        var began = load.Now;
        var steps = new List<string>();
        foreach (var resource in new[] { ResourceNames.Settings, ResourceNames.Tools, ResourceNames.Chat })
            foreach (var instance in Stack.App.Instances(resource))
            {
                var at = load.Now;
                await Stack.App.StopInstanceAsync(instance);
                await Stack.App.StartInstanceAsync(instance);
                steps.Add($"{resource} {(load.Now - at).TotalSeconds:F0} s");
                await Task.Delay(Warmup); // the gateway's probe sees it healthy before the next one goes
            }
        await load.StopAsync();
        // each stop was a SIGTERM that reached the service, which drained (GracefulShutdown), not a kill
        Assert.True(Stack.App.Find("Shutting down: not ready").Count >= steps.Count, $"drains logged: {Stack.App.Find("Shutting down: not ready").Count} of {steps.Count}");

        var outcomes = load.Outcomes;
        var failures = outcomes.Where(o => !o.Ok && o.Started >= began).ToList();
        ReliabilityReport.Record("Rolling restart (Settings, Tools, each Chat replica; SIGTERM)", outcomes, null,
            $"{failures.Count} failed after it began; restarts: {string.Join(", ", steps)}; the gateway itself is one process under the AppHost (two replicas in Kubernetes)");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Contains(outcomes, o => o.Ok && o.Started > began);
    }

    [Fact]
    public async Task PostgreSQL_stopped_for_10_s_gives_503_where_it_is_needed_chat_goes_on_and_everything_recovers_without_restarts()
    {
        using var before = await Stack.Gateway.GetAsync("/settings?fields=ai_system_prompt");
        var promptBefore = JsonNode.Parse(await before.Content.ReadAsStringAsync())!["data"]!["ai_system_prompt"]?.GetValue<string>();
        await using var load = LoadRun.Start(Workers, faults.ChatTurnAsync);
        await Task.Delay(Warmup);

        var stoppedAt = load.Now;
        await Stack.Postgres.StopAsync();
        var probes = new List<string>();
        using var patient = Stack.Client(Stack.GatewayUrl);
        patient.Timeout = TimeSpan.FromSeconds(15); // "within their deadline": a hang fails the probe
        while (load.Now - stoppedAt < TimeSpan.FromSeconds(10))
        {
            using (var read = await patient.GetAsync($"/items/{FaultFixture.Collection}"))
                probes.Add($"GET /items {(int)read.StatusCode} {await CodeAsync(read)}");
            using (var write = await patient.PatchAsJsonAsync("/settings", new { ai_system_prompt = "written during the outage" }))
                probes.Add($"PATCH /settings {(int)write.StatusCode} {await CodeAsync(write)}");
            await Task.Delay(500);
        }
        await Stack.Postgres.StartAsync();
        var startedAt = load.Now;
        var recovered = await UntilAsync(async () =>
        {
            using var read = await patient.GetAsync($"/items/{FaultFixture.Collection}");
            return read.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(60));
        var recoveredAfter = load.Now - startedAt;
        await Task.Delay(Warmup);
        await load.StopAsync();

        var outcomes = load.Outcomes;
        ReliabilityReport.Record("PostgreSQL stopped for 10 s", outcomes, recoveredAfter,
            $"{probes.Count} content reads and settings writes during it: {string.Join(", ", probes.Distinct())}; chat turns went on");
        Assert.All(probes, p => Assert.EndsWith(" 503 SERVICE_UNAVAILABLE", p));
        Assert.True(recovered, "content reads did not recover within 60 s of PostgreSQL's start");
        Assert.True(outcomes.All(o => o.Ok), string.Join("\n", outcomes.Where(o => !o.Ok)));
        // no half-done write: the refused PATCHes left the setting as it was
        using var after = await Stack.Gateway.GetAsync("/settings?fields=ai_system_prompt");
        Assert.Equal(promptBefore, JsonNode.Parse(await after.Content.ReadAsStringAsync())!["data"]!["ai_system_prompt"]?.GetValue<string>());
    }

    [Fact]
    public async Task Redis_stopped_chat_keeps_serving_sign_in_still_works_and_polling_recovers()
    {
        var redis = await ServerHandle.RedisAsync(Stack.App, ResourceNames.Redis);
        await using var load = LoadRun.Start(Workers, faults.ChatTurnAsync);
        await Task.Delay(Warmup);
        var stoppedAt = load.Now;
        await redis.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(5));
        // sign-in without Redis: no shared failure count, so it stays possible (documented)
        using (var login = await Stack.Gateway.PostAsJsonAsync("/auth/login", new { email = "nobody@example.com", password = "wrong" }))
            Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        await redis.StartAsync();
        await Task.Delay(Warmup);
        await load.StopAsync();
        // the version watchers read Redis again: a change reaches every replica (UseNewKeyAsync waits at most 10 s)
        var key = await Stack.UseNewKeyAsync();
        faults.UseKey(key);

        var outcomes = load.Outcomes;
        ReliabilityReport.Record("Redis stopped for 5 s", outcomes, null,
            "chat served from cached settings and access data; sign-in answered without the shared rate limit; a key change reached every replica after");
        Assert.True(outcomes.All(o => o.Ok), string.Join("\n", outcomes.Where(o => !o.Ok)));
        Assert.Contains(outcomes, o => o.Ok && o.Started > stoppedAt);
    }

    [Fact]
    public async Task RabbitMQ_stopped_changes_are_accepted_and_their_events_delivered_once_it_returns()
    {
        await using var load = LoadRun.Start(Workers, faults.ChatTurnAsync);
        await Task.Delay(Warmup);
        await Stack.RabbitMq.StopAsync();
        await Stack.PatchSettingsAsync(new { ai_system_prompt = "changed while RabbitMQ was away" });
        Assert.True(await PendingOutboxAsync() > 0, "the change's event waits in the outbox");
        await Stack.RabbitMq.StartAsync();
        var drained = await UntilAsync(async () => await PendingOutboxAsync() == 0, TimeSpan.FromSeconds(60));
        await load.StopAsync();
        await Stack.PatchSettingsAsync(new { ai_system_prompt = (string?)null });

        var outcomes = load.Outcomes;
        ReliabilityReport.Record("RabbitMQ stopped", outcomes, null, "the settings change was accepted; its event left the outbox once RabbitMQ was back");
        Assert.True(drained, "the outbox did not drain within 60 s of RabbitMQ's start");
        Assert.True(outcomes.All(o => o.Ok), string.Join("\n", outcomes.Where(o => !o.Ok)));
    }

    [Fact]
    public async Task Settings_stopped_chat_keeps_serving_with_its_cached_clients()
    {
        await using var load = LoadRun.Start(Workers, faults.ChatTurnAsync);
        await Task.Delay(Warmup);
        var stoppedAt = load.Now;
        await Stack.App.StopAsync(ResourceNames.Settings);
        await Task.Delay(TimeSpan.FromSeconds(5));
        await Stack.App.StartAsync(ResourceNames.Settings);
        await load.StopAsync();

        var outcomes = load.Outcomes;
        ReliabilityReport.Record("Settings stopped", outcomes, null, "chat served with the cached decrypted provider clients and access data");
        Assert.True(outcomes.All(o => o.Ok), string.Join("\n", outcomes.Where(o => !o.Ok)));
        Assert.Contains(outcomes, o => o.Ok && o.Started > stoppedAt + Warmup);
    }

    [Fact]
    public async Task Tools_stopped_a_tool_call_is_a_recoverable_error_for_the_model_and_the_stream_completes()
    {
        var body = EndToEndFixture.ChatBody("look at the schema", "schema");
        // each turn: the model calls schema, reads its output, answers
        Stack.Simulator.DefaultToolCalls = SimulatedReply.ToolCalls(("schema", "{}"));
        try
        {
            Assert.True((await faults.ChatTurnAsync(body, ToolOutput(expectError: false), CancellationToken.None)).Ok, "a tool turn works with Tools up");
            await using var load = LoadRun.Start(Workers, ct => faults.ChatTurnAsync(body, _ => null, ct));
            await Task.Delay(Warmup);
            await Stack.App.StopAsync(ResourceNames.Tools);
            var stoppedAt = load.Now;
            var during = await faults.ChatTurnAsync(body, ToolOutput(expectError: true), CancellationToken.None);
            await Task.Delay(Warmup);
            await Stack.App.StartAsync(ResourceNames.Tools);
            await load.StopAsync();

            var outcomes = load.Outcomes;
            ReliabilityReport.Record("Tools stopped", outcomes, null, "tool calls got a recoverable SERVICE_UNAVAILABLE tool error; every stream completed");
            Assert.True(during.Ok, during.What);
            Assert.True(outcomes.All(o => o.Ok), string.Join("\n", outcomes.Where(o => !o.Ok)));
            Assert.Contains(outcomes, o => o.Ok && o.Started > stoppedAt);
        }
        finally
        {
            Stack.Simulator.DefaultToolCalls = null;
        }
    }

    /// <summary>The stream's tool output: a recoverable SERVICE_UNAVAILABLE when <paramref name="expectError"/>, else ok.</summary>
    private static Func<ChatStream, string?> ToolOutput(bool expectError) => stream =>
    {
        var output = stream.Chunks.FirstOrDefault(c => c["type"]!.GetValue<string>() == "tool-output-available")?["output"];
        if (output is null) return $"no tool output: {string.Join(",", stream.Types)}";
        var text = output is JsonValue value && value.TryGetValue<string>(out var inner) ? inner : output.ToJsonString();
        if (expectError)
            return text.Contains("SERVICE_UNAVAILABLE", StringComparison.Ordinal) && text.Contains("\"recoverable\":true", StringComparison.Ordinal)
                ? null : $"expected a recoverable SERVICE_UNAVAILABLE, got {text}";
        return text.Contains("\"ok\":true", StringComparison.Ordinal) ? null : $"expected ok, got {text}";
    };

    private async Task<long> PendingOutboxAsync()
    {
        await using var connection = new NpgsqlConnection(Stack.Postgres.ConnectionStringFor("settings"));
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand("select count(*) from outbox_messages where sent_at is null", connection);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<string> ServedByAsync(string replicaUrl)
    {
        using var http = new HttpClient();
        using var health = await http.GetAsync($"{replicaUrl}/health");
        return health.Headers.GetValues("X-Served-By").Single();
    }

    private static async Task<string> CodeAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try { return JsonNode.Parse(text)?["errors"]?[0]?["extensions"]?["code"]?.GetValue<string>() ?? "-"; }
        catch (System.Text.Json.JsonException) { return "not an envelope"; }
    }

    private static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (true)
        {
            try { if (await condition()) return true; }
            catch (HttpRequestException) { }
            catch (NpgsqlException) { }
            if (DateTime.UtcNow > until) return false;
            await Task.Delay(250);
        }
    }
}
