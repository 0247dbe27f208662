using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using Npgsql;
using NpgsqlTypes;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// One schema change in progress: its transaction, the schema as it was when the change took the schema lock, and the
/// statements that write the system tables (always with parameters). A PostgreSQL refusal of a statement (a default
/// that does not cast, nulls in a column made required, a foreign key between different types) becomes
/// <c>INVALID_PAYLOAD</c> naming the field; the caller's transaction then rolls everything back.
/// </summary>
public sealed class SchemaChange(NpgsqlConnection connection, NpgsqlTransaction transaction, SchemaSnapshot schema)
{
    public SchemaSnapshot Schema { get; } = schema;

    /// <summary>Runs DDL built by <see cref="SchemaDdl"/>; <paramref name="field"/> is what an error names.</summary>
    public async Task DdlAsync(string sql, string field, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, transaction);
        try
        {
            await cmd.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState[..2] is "22" or "23" or "42" or "2B")
        {
            // Directus's codes for the rows that stop a column from becoming required or unique
            var extensions = new Dictionary<string, object?> { ["collection"] = e.TableName, ["field"] = field };
            throw e.SqlState switch
            {
                PostgresErrorCodes.NotNullViolation => new DirectusException(StatusCodes.Status400BadRequest, ErrorCodes.ContainsNullValues,
                    $"Field \"{field}\" contains null values: give them a value before making it required.", extensions),
                PostgresErrorCodes.UniqueViolation => new DirectusException(StatusCodes.Status400BadRequest, ErrorCodes.RecordNotUnique,
                    $"Field \"{field}\" has duplicate values: make them unique before making it unique.", extensions),
                _ => DirectusException.InvalidPayload($"Field \"{field}\": {e.MessageText}", field),
            };
        }
    }

    /// <summary>Whether a table, view or other relation of this name exists, collection or not (the outbox, for one).</summary>
    public async Task<bool> RelationExistsAsync(string name, CancellationToken ct) =>
        await ScalarAsync<bool>("select to_regclass(quote_ident($1)) is not null", ct, name);

    public Task InsertCollectionAsync(string collection, CollectionMeta m, CancellationToken ct) => ExecAsync(
        """insert into content_collections (collection, note, hidden, singleton, icon, sort, "group") values ($1, $2, $3, $4, $5, $6, $7)""",
        ct, collection, m.Note, m.Hidden, m.Singleton, m.Icon, m.Sort, m.Group);

    public Task UpdateCollectionAsync(string collection, CollectionMeta m, CancellationToken ct) => ExecAsync(
        """update content_collections set note = $2, hidden = $3, singleton = $4, icon = $5, sort = $6, "group" = $7 where collection = $1""",
        ct, collection, m.Note, m.Hidden, m.Singleton, m.Icon, m.Sort, m.Group);

    public async Task DeleteCollectionAsync(string collection, CancellationToken ct)
    {
        await ExecAsync("""update content_collections set "group" = null where "group" = $1""", ct, collection);
        await ExecAsync("delete from content_fields where collection = $1", ct, collection);
        await ExecAsync("delete from content_relations where many_collection = $1", ct, collection);
        await ExecAsync("delete from content_collections where collection = $1", ct, collection);
    }

    public Task InsertFieldAsync(FieldSchema f, CancellationToken ct)
    {
        var m = f.Meta ?? new FieldMeta();
        return ExecAsync("""
            insert into content_fields (collection, field, type, special, interface, options, display, display_options, readonly, hidden,
                required, note, sort, width, validation)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            """, ct, f.Collection, f.Field, f.Type, m.Special?.ToArray() ?? [], m.Interface, Jsonb(m.Options), m.Display, Jsonb(m.DisplayOptions),
            m.Readonly, m.Hidden, m.Required, m.Note, m.Sort, m.Width, Jsonb(m.Validation));
    }

    public async Task UpdateFieldAsync(FieldSchema f, CancellationToken ct)
    {
        await ExecAsync("delete from content_fields where collection = $1 and field = $2", ct, f.Collection, f.Field);
        await InsertFieldAsync(f, ct);
    }

    public Task DeleteFieldAsync(string collection, string field, CancellationToken ct) =>
        ExecAsync("delete from content_fields where collection = $1 and field = $2", ct, collection, field);

    public Task InsertRelationAsync(RelationSchema r, CancellationToken ct) => ExecAsync("""
        insert into content_relations (many_collection, many_field, one_collection, one_field, junction_field, sort_field, one_deselect_action)
        values ($1, $2, $3, $4, $5, $6, $7)
        """, ct, r.Collection, r.Field, r.RelatedCollection, r.OneField, r.JunctionField, r.SortField, r.OneDeselectAction);

    public async Task UpdateRelationAsync(RelationSchema r, CancellationToken ct)
    {
        await DeleteRelationAsync(r.Collection, r.Field, ct);
        await InsertRelationAsync(r, ct);
    }

    public Task DeleteRelationAsync(string collection, string field, CancellationToken ct) =>
        ExecAsync("delete from content_relations where many_collection = $1 and many_field = $2", ct, collection, field);

    /// <summary>Directus keeps a relation whose alias is deleted, without its <c>one_field</c>.</summary>
    public Task ClearOneFieldAsync(RelationSchema r, CancellationToken ct) =>
        ExecAsync("update content_relations set one_field = null where many_collection = $1 and many_field = $2", ct, r.Collection, r.Field);

    /// <summary>Takes the schema lock (the version row) and returns the version this change commits.</summary>
    public static async Task<long> NextVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("update content_schema_version set version = version + 1 where id = 1 returning version", connection, transaction);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static NpgsqlParameter Jsonb(JsonNode? node) =>
        new() { Value = (object?)node?.ToJsonString() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb };

    private async Task ExecAsync(string sql, CancellationToken ct, params object?[] values)
    {
        await using var cmd = Command(sql, values);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<T> ScalarAsync<T>(string sql, CancellationToken ct, params object?[] values)
    {
        await using var cmd = Command(sql, values);
        return (T)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private NpgsqlCommand Command(string sql, object?[] values)
    {
        var cmd = new NpgsqlCommand(sql, connection, transaction);
        foreach (var v in values)
            cmd.Parameters.Add(v as NpgsqlParameter ?? new NpgsqlParameter { Value = v ?? DBNull.Value });
        return cmd;
    }
}
