using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using StackExchange.Redis;

namespace AiAssistant.Tests.Content.Schema;

/// <summary>A fresh content database with the system tables and the outbox, and a schema store over it.</summary>
internal sealed class SchemaDatabase : IAsyncDisposable
{
    private SchemaDatabase(string name, NpgsqlDataSource data, ConnectionMultiplexer redis)
    {
        Name = name;
        Data = data;
        Redis = redis;
        Cache = NewCache();
        Store = new SchemaStore(data, Cache, new OutboxSignal(), redis, NullLogger<SchemaStore>.Instance);
    }

    public string Name { get; }
    public NpgsqlDataSource Data { get; }
    public ConnectionMultiplexer Redis { get; }
    public SchemaCache Cache { get; }
    public SchemaStore Store { get; }

    public static async Task<SchemaDatabase> CreateAsync(ServersFixture servers, string prefix)
    {
        var database = prefix + "_" + Guid.NewGuid().ToString("N")[..8];
        await servers.Postgres.EnsureDatabasesAsync([database]);
        var data = new NpgsqlDataSourceBuilder(servers.ConnectionString(database)).Build();
        foreach (var sql in new[] { new OutboxSchema().Sql, new SchemaTables().Sql })
        {
            await using var cmd = data.CreateCommand(sql);
            await cmd.ExecuteNonQueryAsync();
        }
        return new SchemaDatabase(database, data, await TestRedis.ConnectAsync(servers.RedisConnectionString));
    }

    /// <summary>Another replica's cache over the same database.</summary>
    public SchemaCache NewCache() => new(Data, NullLogger<SchemaCache>.Instance);

    public static JsonObject Body(string json) => JsonNode.Parse(json)!.AsObject();

    public async Task<T> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var cmd = Data.CreateCommand(sql);
        foreach (var v in values) cmd.Parameters.Add(new NpgsqlParameter { Value = v });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task ExecAsync(string sql)
    {
        await using var cmd = Data.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Column name → data type, from information_schema.</summary>
    public async Task<Dictionary<string, string>> ColumnsAsync(string table)
    {
        await using var cmd = Data.CreateCommand(
            "select column_name::text, data_type::text from information_schema.columns where table_schema = current_schema() and table_name = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = table });
        await using var reader = await cmd.ExecuteReaderAsync();
        var columns = new Dictionary<string, string>();
        while (await reader.ReadAsync()) columns[reader.GetString(0)] = reader.GetString(1);
        return columns;
    }

    public Task<bool> TableExistsAsync(string table) => ScalarAsync<bool>("select to_regclass($1) is not null", table);

    /// <summary>Rows the system tables hold about <paramref name="collection"/> (as collection, field owner, or either side of a relation).</summary>
    public Task<long> SystemRowsAsync(string collection) => ScalarAsync<long>("""
        select (select count(*) from content_collections where collection = $1)
             + (select count(*) from content_fields where collection = $1)
             + (select count(*) from content_relations where many_collection = $1 or one_collection = $1)
        """, collection);

    public Task<long> OutboxRowsAsync() =>
        ScalarAsync<long>("select count(*) from outbox_messages where event_type = 'AiAssistant.Contracts.SchemaChanged'");

    public Task<long> VersionAsync() => ScalarAsync<long>("select version from content_schema_version");

    public async ValueTask DisposeAsync()
    {
        await Data.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
