using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace AiAssistant.Services.Settings.Access;

/// <summary>Plain SQL in, Directus-shaped JSON rows out: uuids and times as strings, jsonb columns as JSON.</summary>
internal static class SqlRows
{
    public static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, params object?[] args)
    {
        var cmd = new NpgsqlCommand(sql, connection, tx);
        foreach (var arg in args)
            cmd.Parameters.Add(arg switch
            {
                null => new NpgsqlParameter { Value = DBNull.Value },
                JsonNode json => new NpgsqlParameter { Value = json.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb },
                Guid[] ids => new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
                string[] texts => new NpgsqlParameter { Value = texts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                _ => new NpgsqlParameter { Value = arg },
            });
        return cmd;
    }

    public static async Task<List<JsonObject>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql,
        object?[] args, CancellationToken ct, params string[] jsonColumns)
    {
        await using var cmd = Command(connection, tx, sql, args);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<JsonObject>();
        while (await reader.ReadAsync(ct))
        {
            var row = new JsonObject();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var name = reader.GetName(i);
                row[name] = reader.IsDBNull(i) ? null : reader.GetValue(i) switch
                {
                    string s when jsonColumns.Contains(name) => JsonNode.Parse(s),
                    string s => JsonValue.Create(s),
                    Guid g => JsonValue.Create(g.ToString()),
                    bool b => JsonValue.Create(b),
                    int n => JsonValue.Create(n),
                    long n => JsonValue.Create(n),
                    DateTime t => JsonValue.Create(DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.fffZ")),
                    string[] a => new JsonArray(a.Select(x => (JsonNode?)JsonValue.Create(x)).ToArray()),
                    var other => JsonValue.Create(other.ToString()),
                };
            }
            rows.Add(row);
        }
        return rows;
    }

    public static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = Command(connection, tx, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = Command(connection, tx, sql, args);
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is null or DBNull ? default : (T)value;
    }
}
