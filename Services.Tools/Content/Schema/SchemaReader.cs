using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AiAssistant.Services.Tools.Audit;
using AiAssistant.Services.Tools.Content.Files;
using Npgsql;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// Builds a <see cref="SchemaSnapshot"/> from the system tables (meta) and PostgreSQL's catalog (the columns' schema,
/// keys and foreign keys), in one round trip, as Directus's schema inspector does.
/// </summary>
public static partial class SchemaReader
{
    private const string Sql = """
        select version from content_schema_version where id = 1;
        select collection, note, hidden, singleton, icon, sort, "group" from content_collections order by sort nulls last, collection;
        select collection, field, type, special, interface, options::text, display, display_options::text, readonly, hidden,
               required, note, sort, width, validation::text
        from content_fields order by collection, sort nulls last, id;
        select c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable = 'YES', c.column_default,
               c.character_maximum_length, c.numeric_precision, c.numeric_scale,
               coalesce(c.column_default like 'nextval(%', false) or c.is_identity = 'YES'
        from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
        where c.table_schema = current_schema();
        select cl.relname::text, a.attname::text, con.contype::text, con.conname::text, con.confdeltype::text
        from pg_constraint con
        join pg_class cl on cl.oid = con.conrelid
        join pg_namespace n on n.oid = cl.relnamespace and n.nspname = current_schema()
        join pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
        where con.contype in ('p', 'u', 'f') and cardinality(con.conkey) = 1
        union all
        select cl.relname::text, a.attname::text, 'i', ic.relname::text, ''
        from pg_index ix
        join pg_class cl on cl.oid = ix.indrelid
        join pg_class ic on ic.oid = ix.indexrelid
        join pg_namespace n on n.oid = cl.relnamespace and n.nspname = current_schema()
        join pg_attribute a on a.attrelid = ix.indrelid and a.attnum = ix.indkey[0]
        where not ix.indisunique and not ix.indisprimary and ix.indnatts = 1;
        select many_collection, many_field, one_collection, one_field, junction_field, sort_field, one_deselect_action
        from content_relations order by id;
        """;

    private sealed record Column(string DataType, bool Nullable, string? Default, int? MaxLength, int? Precision, int? Scale, bool AutoIncrement);

    /// <summary>The schema as <paramref name="transaction"/> sees it (pass one to read inside a change), with its version.</summary>
    public static async Task<(long Version, SchemaSnapshot Snapshot)> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(Sql, connection, transaction);
        await using var reader = await cmd.ExecuteReaderAsync(ct);

        await reader.ReadAsync(ct);
        var version = reader.GetInt64(0);

        await reader.NextResultAsync(ct);
        var collections = new List<(string Name, CollectionMeta Meta)>();
        while (await reader.ReadAsync(ct))
            collections.Add((reader.GetString(0), new CollectionMeta(
                Text(reader, 1), reader.GetBoolean(2), reader.GetBoolean(3), Text(reader, 4), Int(reader, 5), Text(reader, 6))));

        await reader.NextResultAsync(ct);
        var metas = new List<(string Collection, string Field, string Type, FieldMeta Meta)>();
        while (await reader.ReadAsync(ct))
            metas.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), new FieldMeta(
                Interface: Text(reader, 4), Options: Json(reader, 5), Display: Text(reader, 6), DisplayOptions: Json(reader, 7),
                Readonly: reader.GetBoolean(8), Hidden: reader.GetBoolean(9), Required: reader.GetBoolean(10), Note: Text(reader, 11),
                Sort: Int(reader, 12), Width: Text(reader, 13),
                Special: reader.IsDBNull(3) ? [] : reader.GetFieldValue<string[]>(3), Validation: Json(reader, 14))));

        await reader.NextResultAsync(ct);
        var columns = new Dictionary<(string, string), Column>();
        while (await reader.ReadAsync(ct))
            columns[(reader.GetString(0), reader.GetString(1))] = new Column(reader.GetString(2), reader.GetBoolean(3), Text(reader, 4),
                Int(reader, 5), Int(reader, 6), Int(reader, 7), reader.GetBoolean(8));

        await reader.NextResultAsync(ct);
        var primaryKeys = new HashSet<(string, string)>();
        var uniques = new HashSet<(string, string)>();
        var indexed = new HashSet<(string, string)>();
        var foreignKeys = new Dictionary<(string, string), (string Name, string OnDelete)>();
        while (await reader.ReadAsync(ct))
        {
            var key = (reader.GetString(0), reader.GetString(1));
            switch (reader.GetString(2))
            {
                case "p": primaryKeys.Add(key); break;
                case "u": uniques.Add(key); break;
                case "i": indexed.Add(key); break;
                default: foreignKeys[key] = (reader.GetString(3), OnDeleteAction(reader.GetString(4))); break;
            }
        }

        await reader.NextResultAsync(ct);
        var relations = new List<RelationSchema>();
        while (await reader.ReadAsync(ct))
        {
            var (many, field) = (reader.GetString(0), reader.GetString(1));
            var fk = foreignKeys.GetValueOrDefault((many, field));
            relations.Add(new RelationSchema(many, field, Text(reader, 2), Text(reader, 3), Text(reader, 4), Text(reader, 5),
                reader.GetString(6), fk.OnDelete ?? "NO ACTION", fk.Name));
        }

        var tables = columns.Keys.Select(k => k.Item1).ToHashSet();
        var byCollection = metas.ToLookup(m => m.Collection);
        var result = collections.Select(c =>
        {
            if (!tables.Contains(c.Name)) return new CollectionSchema(c.Name, null, new Dictionary<string, FieldSchema>(), c.Meta);
            var fields = new Dictionary<string, FieldSchema>(StringComparer.Ordinal);
            foreach (var m in byCollection[c.Name])
            {
                if (m.Type == FieldTypes.Alias || !columns.TryGetValue((c.Name, m.Field), out var col))
                {
                    fields[m.Field] = new FieldSchema(c.Name, m.Field, FieldTypes.Alias, Meta: m.Meta);
                    continue;
                }
                var key = (c.Name, m.Field);
                fields[m.Field] = new FieldSchema(c.Name, m.Field, m.Type,
                    IsPrimaryKey: primaryKeys.Contains(key), Nullable: col.Nullable, Unique: uniques.Contains(key) || primaryKeys.Contains(key),
                    Indexed: indexed.Contains(key),
                    AutoIncrement: col.AutoIncrement,
                    MaxLength: col.DataType == "character varying" ? col.MaxLength : null,
                    NumericPrecision: col.DataType == "numeric" ? col.Precision : null,
                    NumericScale: col.DataType == "numeric" ? col.Scale : null,
                    DefaultValue: col.AutoIncrement ? null : ParseDefault(col.Default, m.Type), Meta: m.Meta);
            }
            return new CollectionSchema(c.Name, fields.Values.FirstOrDefault(f => f.IsPrimaryKey)?.Field, fields, c.Meta);
        });
        return (version, new SchemaSnapshot(result.Concat(FileTables.Collections).Concat(ToolCallTables.Collections), relations.Concat(FileTables.Relations)));
    }

    /// <summary>pg_constraint.confdeltype as the SQL words Directus reports.</summary>
    private static string OnDeleteAction(string code) => code switch
    {
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        "r" => "RESTRICT",
        _ => "NO ACTION",
    };

    [GeneratedRegex(@"^'((?:[^']|'')*)'(?:::[a-z ]+(?:\(\d+(?:,\d+)?\))?)?$")]
    private static partial Regex QuotedLiteral();

    /// <summary>
    /// A column default as PostgreSQL prints it (<c>'draft'::character varying</c>, <c>42</c>, <c>true</c>, <c>now()</c>)
    /// back to the JSON value a caller gave; a function default other than the current time reads as null.
    /// </summary>
    private static JsonNode? ParseDefault(string? expression, string type)
    {
        if (expression is null || expression.StartsWith("NULL", StringComparison.Ordinal)) return null;
        if (expression is "now()" or "CURRENT_TIMESTAMP" or "CURRENT_DATE" or "CURRENT_TIME" or "LOCALTIMESTAMP" or "LOCALTIME"
            || expression.StartsWith("now()", StringComparison.Ordinal) || expression.StartsWith("CURRENT_", StringComparison.Ordinal))
            return "CURRENT_TIMESTAMP";
        string text;
        if (QuotedLiteral().Match(expression) is { Success: true } m) text = m.Groups[1].Value.Replace("''", "'");
        else if (expression.Contains('(')) return null;
        else text = expression;
        return type switch
        {
            "integer" or "bigInteger" when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            "float" when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            "decimal" when decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var dec) => dec,
            "boolean" => text is "true",
            "json" => JsonNode.Parse(text),
            _ => text,
        };
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
    private static int? Int(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToInt32(r.GetValue(i), CultureInfo.InvariantCulture);
    private static JsonNode? Json(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : JsonNode.Parse(r.GetString(i));
}
