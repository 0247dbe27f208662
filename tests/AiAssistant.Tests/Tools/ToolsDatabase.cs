using System.Text.Json.Nodes;
using AiAssistant.Contracts.Access;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.Services.Tools.AssistantTools;
using AiAssistant.Services.Tools.Content;
using AiAssistant.Services.Tools.Content.Files;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.ServiceDefaults.Messaging;
using MassTransit;
using AiAssistant.Services.Tools.ToolRegistry;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using StackExchange.Redis;

namespace AiAssistant.Tests.Tools;

/// <summary>
/// A fresh content database with every table the Tools service makes, and the service's own content store and tools
/// over it, registered as <c>Program.cs</c> registers them (<c>AddContentStore</c>, <c>AddAssistantTools</c>). Callers'
/// permissions come from <see cref="Grant"/> instead of Settings.
/// </summary>
internal sealed class ToolsDatabase : IAsyncDisposable
{
    public static readonly CallerIdentity Admin = new("00000000-0000-0000-0000-0000000000a1", null, Admin: true, App: true);
    public const string PublicUrl = "https://cms.example";

    private readonly Grants _grants;
    private readonly IHost _host;

    private readonly ServersFixture _servers;
    private readonly string _database;
    private readonly string? _flowEvents;
    private bool _started;

    private ToolsDatabase(IHost host, Grants grants, string filesRoot, ServersFixture servers, string database, string? flowEvents)
    {
        (_host, _grants, _servers, _database, _flowEvents) = (host, grants, servers, database, flowEvents);
        FilesRoot = filesRoot;
    }

    /// <summary>Each test user's permission rows; admins bypass, anyone else without rows is the empty Public policy.</summary>
    private sealed class Grants : IPermissionSource
    {
        public readonly Dictionary<string, CallerPermissions> ByUser = new();

        public ValueTask<CallerPermissions> ForAsync(CallerIdentity? caller, CancellationToken ct) =>
            ValueTask.FromResult(caller?.Admin == true ? CallerPermissions.Admin
                : ByUser.TryGetValue(caller?.UserId ?? "", out var granted) ? granted
                : CallerPermissions.From(new GetPermissionsReply()));
    }

    public string FilesRoot { get; }
    public IServiceProvider Services => _host.Services;
    public SchemaStore Schema => Services.GetRequiredService<SchemaStore>();
    public ToolRegistry Registry => Services.GetRequiredService<ToolRegistry>();
    public ItemsService Items => Services.GetRequiredService<ItemsService>();

    /// <param name="flowEvents">A queue name: the host also runs the outbox dispatcher and consumes event flows' events from that
    /// queue of the real RabbitMQ, as a Tools replica does (call <see cref="StartAsync"/>).</param>
    public static async Task<ToolsDatabase> CreateAsync(ServersFixture servers, string prefix, string? flowEvents = null)
    {
        var database = prefix + "_" + Guid.NewGuid().ToString("N")[..8];
        await servers.Postgres.EnsureDatabasesAsync([database]);
        var created = await HostAsync(servers, database, flowEvents);
        var data = created.Services.GetRequiredService<NpgsqlDataSource>();
        foreach (var schema in created.Services.GetServices<IDatabaseSchema>())
        {
            await using var cmd = data.CreateCommand(schema.Sql);
            await cmd.ExecuteNonQueryAsync();
        }
        return created;
    }

    /// <summary>A second Tools replica over the same database (its own host, connections and Redis client): what two replicas share is only the servers.</summary>
    public Task<ToolsDatabase> ReplicaAsync() => HostAsync(_servers, _database, _flowEvents);

    private static async Task<ToolsDatabase> HostAsync(ServersFixture servers, string database, string? flowEvents)
    {
        var filesRoot = TestFolders.Create("tool-files");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Internal:Token"] = "tools-database-test-credential-0123456789",
            ["PublicUrl"] = PublicUrl,
            ["Files:Root"] = filesRoot,
            ["Files:Import:AllowedHosts:0"] = "localhost",
            ["Flows:Exec:Timeout"] = "00:00:01",
            ["Flows:EnvAllowList"] = "AIASSISTANT_TEST_FLOW_VISIBLE, AIASSISTANT_TEST_FLOW_UNSET",
        });
        builder.Services.AddLogging();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new NpgsqlDataSourceBuilder(servers.ConnectionString(database)).Build());
        builder.Services.AddSingleton<IConnectionMultiplexer>(await TestRedis.ConnectAsync(servers.RedisConnectionString));
        if (flowEvents is null)
        {
            builder.Services.AddSingleton<OutboxSignal>();
            builder.Services.AddSingleton<IDatabaseSchema, OutboxSchema>();
        }
        else
        {
            builder.Configuration["ConnectionStrings:rabbitmq"] = servers.RabbitMqConnectionString;
            builder.AddMessaging(x => x.AddConsumer<ItemsChangedConsumer>(), (context, cfg) => cfg.ReceiveFlowEvents(context, flowEvents));
            builder.AddOutbox();
        }
        builder.AddContentStore();
        builder.Services.AddAssistantTools();
        var grants = new Grants();
        builder.Services.AddSingleton<IPermissionSource>(grants);
        return new ToolsDatabase(builder.Build(), grants, filesRoot, servers, database, flowEvents);
    }

    /// <summary>Starts the host's background services (outbox, bus, schedulers) and waits until the bus is connected.</summary>
    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
        if (_flowEvents is not null)
            Xunit.Assert.Equal(BusHealthStatus.Healthy,
                await Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(60)));
    }

    /// <summary>A user whose permissions are exactly <paramref name="rows"/> (an app user, not an admin).</summary>
    public CallerIdentity Grant(string userId, params Permission[] rows)
    {
        var reply = new GetPermissionsReply();
        reply.PolicyIds.Add("00000000-0000-0000-0000-000000000011");
        reply.Permissions.Add(rows);
        _grants.ByUser[userId] = CallerPermissions.From(reply);
        return new CallerIdentity(userId, null, Admin: false, App: true);
    }

    public static Permission Rule(string collection, string action, string? filter = null, params string[] fields) =>
        new() { Collection = collection, Action = action, HasFields = true, Fields = { fields.Length == 0 ? ["*"] : fields }, PermissionsJson = filter ?? "" };

    /// <summary>An MCP call (no approvals) through the registry's whole pipeline, as the model's envelope.</summary>
    public async Task<JsonObject> ExecuteAsync(string tool, string input, CallerIdentity? caller = null) =>
        (await Registry.ExecuteAsync(tool, JsonNode.Parse(input), caller ?? Admin, Mcp, null, CancellationToken.None)).ToEnvelope();

    public static readonly ToolScope Mcp = new(ToolSurface.Mcp, null, ToolScope.NoApprovals);

    /// <summary>The result of a call that must succeed.</summary>
    public async Task<JsonNode?> ResultAsync(string tool, string input, CallerIdentity? caller = null)
    {
        var envelope = await ExecuteAsync(tool, input, caller);
        Xunit.Assert.True(envelope["ok"]!.GetValue<bool>(), envelope.ToJsonString());
        return envelope["result"];
    }

    public static string Code(JsonObject error) => error["code"]!.GetValue<string>();

    /// <summary>The error of a call that must fail.</summary>
    public async Task<JsonObject> ErrorAsync(string tool, string input, CallerIdentity? caller = null)
    {
        var envelope = await ExecuteAsync(tool, input, caller);
        Xunit.Assert.False(envelope["ok"]!.GetValue<bool>(), envelope.ToJsonString());
        return envelope["error"]!.AsObject();
    }

    /// <summary>Stores a file as an upload would (as the admin) and answers its id.</summary>
    public async Task<string> UploadAsync(byte[] bytes, string name, string? declaredType = null)
    {
        var (store, reader) = (Services.GetRequiredService<FileStore>(), Services.GetRequiredService<ItemsReader>());
        var caller = new WriteCaller(CallerPermissions.Admin, reader.Context(Admin.UserId, null, []), null, "test", null);
        using var file = await store.ReceiveAsync(new MemoryStream(bytes), name, declaredType, [], CancellationToken.None);
        return (await store.CreateAsync([file], caller, Services.GetRequiredService<ItemsWriter>(), CancellationToken.None))[0].GetValue<string>();
    }

    public async ValueTask DisposeAsync()
    {
        if (_started) await _host.StopAsync();
        await Services.GetRequiredService<NpgsqlDataSource>().DisposeAsync();
        await Services.GetRequiredService<IConnectionMultiplexer>().DisposeAsync();
        _host.Dispose();
        TestFolders.Delete(FilesRoot);
    }
}
