using System.Collections.Concurrent;
using System.Diagnostics;
using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Messaging;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Tests.Infrastructure;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using Xunit;

namespace AiAssistant.Tests.Defaults;

/// <summary>
/// A service wired as Program.cs wires ours (AddServiceDefaults, PostgreSQL, Redis, RabbitMQ with a replica queue, the
/// outbox, UseDirectusErrors, MapDefaultEndpoints) against the fixture's servers, with OpenTelemetry's in-memory
/// exporter beside the OTLP one so a test reads every span and log record it produced.
/// </summary>
internal sealed class ServiceShapedApp : IAsyncDisposable
{
    public const string ReplicaQueue = "defaults-test";

    public WebApplication App { get; private set; } = null!;
    public Sink<Activity> Spans { get; } = new(Describe);
    /// <summary>Log records are pooled by the SDK: the sink keeps what each said, not the record.</summary>
    public Sink<LogRecord> Logs { get; } = new(r => $"{r.CategoryName} {r.FormattedMessage} {string.Join(' ', r.Attributes?.Select(a => $"{a.Key}={a.Value}") ?? [])} {r.Exception}");

    /// <summary>Everything a span shows the dashboard: its name, tags, events, baggage and status text.</summary>
    public static string Describe(Activity a) =>
        $"{a.Source.Name} {a.DisplayName} {a.StatusDescription} " +
        string.Join(' ', a.TagObjects.Select(t => $"{t.Key}={t.Value}")) + " " +
        string.Join(' ', a.Events.Select(e => e.Name + " " + string.Join(' ', e.Tags.Select(t => $"{t.Key}={t.Value}")))) + " " +
        string.Join(' ', a.Baggage.Select(b => $"{b.Key}={b.Value}"));
    public Received Events { get; } = new();

    public sealed class Received
    {
        public ConcurrentQueue<(AiSettingsChanged Message, ActivityTraceId TraceId)> Items { get; } = new();
        public SemaphoreSlim Arrived { get; } = new(0);
    }

    public sealed class Collector(Received received) : IConsumer<AiSettingsChanged>
    {
        public Task Consume(ConsumeContext<AiSettingsChanged> context)
        {
            received.Items.Enqueue((context.Message, Activity.Current?.TraceId ?? default));
            received.Arrived.Release();
            return Task.CompletedTask;
        }
    }

    /// <summary><paramref name="drainDelay"/>: <c>Shutdown:DrainDelay</c>, none unless a test looks at shutting down.</summary>
    public static async Task<ServiceShapedApp> StartAsync(ServersFixture servers, string database, Action<WebApplication> map, TimeSpan? drainDelay = null)
    {
        await servers.Postgres.EnsureDatabasesAsync([database]);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration[$"ConnectionStrings:{database}"] = servers.ConnectionString(database);
        builder.Configuration[$"ConnectionStrings:{ResourceNames.Redis}"] = servers.RedisConnectionString;
        builder.Configuration[$"ConnectionStrings:{ResourceNames.RabbitMq}"] = servers.RabbitMqConnectionString;
        builder.Configuration["Shutdown:DrainDelay"] = (drainDelay ?? TimeSpan.Zero).ToString();
        builder.Configuration["Shutdown:Timeout"] = "00:00:05";

        var shaped = new ServiceShapedApp();
        builder.AddServiceDefaults();
        builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(shaped.Spans));
        builder.Services.ConfigureOpenTelemetryLoggerProvider(l => l.AddInMemoryExporter(shaped.Logs));
        builder.AddPostgres(database);
        builder.AddRedis();
        builder.AddMessaging(x => x.AddConsumer<Collector>(),
            (context, cfg) => cfg.ReplicaReceiveEndpoint($"{ReplicaQueue}-{database}", e => e.ConfigureConsumer<Collector>(context)));
        builder.AddOutbox();
        builder.Services.AddSingleton(shaped.Events);

        var app = shaped.App = builder.Build();
        app.UseDirectusErrors();
        app.MapDefaultEndpoints();
        map(app);
        await app.StartAsync();
        // The replica queue must be bound before anything is published, or RabbitMQ drops the event.
        await app.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60));
        return shaped;
    }

    public HttpClient Client() => new(new SocketsHttpHandler { UseProxy = false })
    {
        BaseAddress = new Uri(App.Urls.Single()),
        Timeout = TimeSpan.FromSeconds(30),
    };

    public async Task<(AiSettingsChanged Message, ActivityTraceId TraceId)> NextEventAsync(TimeSpan within)
    {
        Assert.True(await Events.Arrived.WaitAsync(within), "no event arrived");
        Assert.True(Events.Items.TryDequeue(out var e));
        return e;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>A thread-safe collection for the in-memory exporter, which adds from the SDK's threads.</summary>
internal sealed class Sink<T>(Func<T, string> describe) : ICollection<T>
{
    private readonly List<(T Item, string Text)> _items = [];

    public List<T> Items
    {
        get { lock (_items) return _items.Select(i => i.Item).ToList(); }
    }

    public List<string> Texts
    {
        get { lock (_items) return _items.Select(i => i.Text).ToList(); }
    }

    public void Add(T item)
    {
        var text = describe(item);
        lock (_items) _items.Add((item, text));
    }

    public int Count
    {
        get { lock (_items) return _items.Count; }
    }

    public bool IsReadOnly => false;
    public void Clear() { lock (_items) _items.Clear(); }
    public bool Contains(T item) => Items.Contains(item);
    public void CopyTo(T[] array, int arrayIndex) => Items.CopyTo(array, arrayIndex);
    public bool Remove(T item) => throw new NotSupportedException();
    public IEnumerator<T> GetEnumerator() => Items.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
