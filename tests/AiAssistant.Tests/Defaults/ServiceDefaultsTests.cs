using System.Diagnostics;
using System.Net;
using System.Text.Json;
using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using StackExchange.Redis;
using Xunit;

namespace AiAssistant.Tests.Defaults;

/// <summary>ServiceDefaults as a service uses them, against the real PostgreSQL, Redis and RabbitMQ of the fixture.</summary>
[Collection(ServersCollection.Name)]
public sealed class ServiceDefaultsTests(ServersFixture servers)
{
    private static string NewDatabase() => "defaults_" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The settings-change shape: a request writes a row and its event in one transaction, the outbox publishes it.</summary>
    private static void MapWriter(WebApplication app) =>
        app.MapPost("/write", async (HttpContext context, NpgsqlDataSource data, IConnectionMultiplexer redis, OutboxSignal outbox, ILogger<ServiceDefaultsTests> logger) =>
        {
            var body = await JsonSerializer.DeserializeAsync<Dictionary<string, string>>(context.Request.Body);
            var secret = body!["api_key"];
            await using var connection = await data.OpenConnectionAsync();
            await using var tx = await connection.BeginTransactionAsync();
            // A secret as a parameter, as AiSettingsStore writes ciphertexts: the Npgsql span records the SQL, not the values.
            await using (var cmd = new NpgsqlCommand("select length($1)", connection, tx))
            {
                cmd.Parameters.Add(new NpgsqlParameter { Value = secret });
                await cmd.ExecuteScalarAsync();
            }
            await OutboxWriter.AddAsync(connection, tx, new AiSettingsChanged(7, ["ai_openai_api_key"], DateTimeOffset.UtcNow), CancellationToken.None);
            await tx.CommitAsync();
            outbox.Notify();
            await redis.GetDatabase().StringSetAsync("defaults:test:" + Guid.NewGuid(), secret, TimeSpan.FromMinutes(1));
            logger.LogInformation("Settings written, version {Version}", 7);
            return Results.Ok(new { trace = Activity.Current!.TraceId.ToHexString() });
        });

    [Fact]
    public async Task A_settings_change_and_its_event_delivery_are_one_trace_and_no_secret_lands_in_spans_or_logs()
    {
        const string secret = "sk-secret-5f0c1e2d";
        var database = NewDatabase();
        await using var shaped = await ServiceShapedApp.StartAsync(servers, database, MapWriter);
        using var client = shaped.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "token-" + secret);

        var response = await client.PostAsync("/write?access_token=" + secret,
            new StringContent(JsonSerializer.Serialize(new { api_key = secret }), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var writer = ActivityTraceId.CreateFromString(
            JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("trace").GetString());

        // The consumer runs inside the writer's trace: MassTransit carried the context the dispatcher took from the row.
        var (message, consumerTrace) = await shaped.NextEventAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(7, message.Version);
        Assert.Equal(writer, consumerTrace);

        // And so do the exported spans: the request, the outbox publish, MassTransit's send and receive.
        Activity[] inTrace = [];
        // A span is exported when it ends, and the consumer may end before the publish that sent it has: wait for all.
        for (var i = 0; i < 100; i++)
        {
            inTrace = shaped.Spans.Items.Where(a => a.TraceId == writer).ToArray();
            if (inTrace.Any(a => a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Consumer) &&
                inTrace.Any(a => a.DisplayName == "outbox publish AiSettingsChanged")) break;
            await Task.Delay(100);
        }
        Assert.Contains(inTrace, a => a.Kind == ActivityKind.Server && a.Source.Name == "Microsoft.AspNetCore");
        Assert.Contains(inTrace, a => a.DisplayName == "outbox publish AiSettingsChanged");
        Assert.Contains(inTrace, a => a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Producer);
        Assert.Contains(inTrace, a => a.Source.Name == "MassTransit" && a.Kind == ActivityKind.Consumer);
        Assert.Contains(inTrace, a => a.Source.Name == "Npgsql");
        // Background polls (the outbox, version watchers) start no trace of their own: no root span from Npgsql. The
        // listener is process-wide, so other tests' commands on their own databases are left out.
        Assert.DoesNotContain(shaped.Spans.Items, a => a.Source.Name == "Npgsql" && a.ParentSpanId == default && a.DisplayName != "CONNECT " + database
            && (a.GetTagItem("db.namespace") ?? a.GetTagItem("db.name")) as string == database);
        Assert.Contains(shaped.Spans.Items, a => a.Source.Name == "Npgsql" && (a.GetTagItem("db.namespace") ?? a.GetTagItem("db.name")) as string == database);

        // Query values are redacted, headers and bodies are not recorded, Npgsql parameters are not recorded.
        Assert.DoesNotContain(shaped.Spans.Texts, t => t.Contains(secret));
        Assert.Contains(shaped.Logs.Texts, t => t.Contains("Settings written, version 7"));
        Assert.DoesNotContain(shaped.Logs.Texts, t => t.Contains(secret));
    }

    [Fact]
    public async Task Health_names_every_dependency_alive_only_the_process_and_probes_are_not_traced()
    {
        await using var shaped = await ServiceShapedApp.StartAsync(servers, NewDatabase(), _ => { });
        using var client = shaped.Client();

        var health = await client.GetAsync("/health");
        var body = await health.Content.ReadAsStringAsync();
        Assert.True(health.StatusCode == HttpStatusCode.OK, body);
        var checks = JsonDocument.Parse(body).RootElement.GetProperty("checks");
        Assert.Equal(["PostgreSql", "StackExchange.Redis", "masstransit-bus", "ready", "self"],
            checks.EnumerateObject().Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.All(checks.EnumerateObject(), c => Assert.Equal("Healthy", c.Value.GetString()));

        var alive = JsonDocument.Parse(await client.GetStringAsync("/alive")).RootElement.GetProperty("checks");
        Assert.Equal(["self"], alive.EnumerateObject().Select(c => c.Name));

        // A route that exists is traced; the probes are not.
        await client.GetAsync("/nothing-here");
        for (var i = 0; i < 50 && !shaped.Spans.Items.Any(a => a.Kind == ActivityKind.Server); i++) await Task.Delay(100);
        var paths = shaped.Spans.Items.Where(a => a.Kind == ActivityKind.Server).Select(a => a.GetTagItem("url.path") as string).ToList();
        Assert.Contains("/nothing-here", paths);
        Assert.DoesNotContain("/health", paths);
        Assert.DoesNotContain("/alive", paths);
    }

    [Fact]
    public async Task On_stop_a_service_turns_unready_serves_while_it_drains_and_finishes_what_is_in_flight()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var shaped = await ServiceShapedApp.StartAsync(servers, NewDatabase(), app => app.MapGet("/slow", async () =>
        {
            started.SetResult();
            await release.Task;
            return "finished";
        }), drainDelay: TimeSpan.FromSeconds(3));
        using var client = shaped.Client();
        var slow = client.GetStringAsync("/slow");
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var stop = shaped.App.StopAsync(); // what SIGTERM does
        using (var health = await client.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            var checks = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("checks");
            Assert.Equal("Unhealthy", checks.GetProperty("ready").GetString());
            Assert.Equal("Healthy", checks.GetProperty("PostgreSql").GetString());
        }
        // while it drains, a request that still arrives is answered, not refused
        using (var late = await client.GetAsync("/alive")) Assert.Equal(HttpStatusCode.OK, late.StatusCode);

        Assert.False(stop.IsCompleted, "stopped with a request in flight");
        release.SetResult();
        Assert.Equal("finished", await slow);
        await stop.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_database_or_redis_that_is_away_answers_503_naming_it_not_500()
    {
        var closed = GatewayProcess.FreePort(); // nothing listens there: connections are refused
        await using var shaped = await ServiceShapedApp.StartAsync(servers, NewDatabase(), app =>
        {
            app.MapGet("/db", async () =>
            {
                await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={closed};Username=u;Password=p;Timeout=5");
                await connection.OpenAsync();
                return "unreachable";
            });
            app.MapGet("/cache", async () =>
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{closed},abortConnect=false,connectTimeout=500");
                return (string?)await redis.GetDatabase().StringGetAsync("k") ?? "unreachable";
            });
        });
        using var client = shaped.Client();

        foreach (var (path, server) in new[] { ("/db", ResourceNames.Postgres), ("/cache", ResourceNames.Redis) })
        {
            using var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{path}: {(int)response.StatusCode} {body}");
            var error = JsonDocument.Parse(body).RootElement.GetProperty("errors")[0];
            Assert.Equal("SERVICE_UNAVAILABLE", error.GetProperty("extensions").GetProperty("code").GetString());
            Assert.Equal(server, error.GetProperty("extensions").GetProperty("service").GetString());
            Assert.Equal($"Service \"{server}\" is unavailable. It cannot be reached right now; try again shortly.", error.GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task A_replica_queue_is_per_start_durable_and_expires_once_unread()
    {
        var database = NewDatabase();
        await using var shaped = await ServiceShapedApp.StartAsync(servers, database, _ => { });
        var queue = $"{ServiceShapedApp.ReplicaQueue}-{database}-{MessagingExtensions.InstanceId}";

        var factory = new ConnectionFactory { Uri = new Uri(servers.RabbitMqConnectionString) };
        await using var connection = await factory.CreateConnectionAsync();
        await using (var channel = await connection.CreateChannelAsync())
            Assert.Equal(queue, (await channel.QueueDeclarePassiveAsync(queue)).QueueName);

        // Declaring it again without x-expires is refused as inequivalent: the queue RabbitMQ holds has one.
        await using var other = await connection.CreateChannelAsync();
        var refused = await Assert.ThrowsAsync<OperationInterruptedException>(() =>
            other.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null));
        Assert.Contains("x-expires", refused.Message);
    }

    [Fact]
    public async Task Without_redis_the_service_answers_and_after_a_redis_restart_it_reconnects()
    {
        var key = "defaults:restart:" + Guid.NewGuid();
        await using var shaped = await ServiceShapedApp.StartAsync(servers, NewDatabase(), app =>
            app.MapPost("/count", async (IConnectionMultiplexer redis) =>
            {
                try { return Results.Ok(new { count = (long)await redis.GetDatabase().StringIncrementAsync(key) }); }
                catch (Exception e) when (e is RedisException or RedisTimeoutException) { return Results.Ok(new { count = -1L }); }
            }));
        using var client = shaped.Client();
        async Task<long> CountAsync() =>
            JsonDocument.Parse(await (await client.PostAsync("/count", null)).Content.ReadAsStringAsync()).RootElement.GetProperty("count").GetInt64();

        Assert.Equal(1, await CountAsync());
        await servers.Redis.StopAsync();
        try
        {
            Assert.Equal(-1, await CountAsync());
            // Redis away: degraded, naming it, and still ready (every replica would fail the same way)
            using var health = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            var report = JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("degraded", report.GetProperty("status").GetString());
            Assert.Equal("Degraded", report.GetProperty("checks").GetProperty("StackExchange.Redis").GetString());
            Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("ready").GetString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        }
        finally
        {
            await servers.Redis.StartAsync();
        }

        // The fixture's Redis keeps no data: the count starts again once the multiplexer is back.
        var after = -1L;
        for (var i = 0; i < 100 && after < 0; i++)
        {
            after = await CountAsync();
            if (after < 0) await Task.Delay(200);
        }
        Assert.Equal(1, after);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task The_opt_in_resilience_handler_retries_a_service_that_answers_503()
    {
        var calls = 0;
        await using var upstream = await Gateway.LoopbackApp.UpstreamAsync(context =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref calls) < 3 ? 503 : 200;
            return Task.CompletedTask;
        });
        var services = new ServiceCollection();
        services.AddHttpClient("service").AddServiceResilience();
        services.AddHttpClient("plain");
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        // The upstream answers 503 twice, then 200: a plain client sees the first 503, the resilient one retries past the second.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await factory.CreateClient("plain").GetAsync(upstream.Address)).StatusCode);
        Assert.Equal(1, calls);
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient("service").GetAsync(upstream.Address)).StatusCode);
        Assert.Equal(3, calls);
    }
}
