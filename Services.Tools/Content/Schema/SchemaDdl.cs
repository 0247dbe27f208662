using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using static AiAssistant.Services.Tools.Content.Schema.SchemaNames;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// The DDL for schema changes. Identifiers pass <see cref="SchemaNames.Quote"/>; a default value (DDL takes no
/// parameters) is rendered from its JSON value by type: numbers and booleans from their parsed value, everything else
/// as a single-quoted literal with quotes doubled, which PostgreSQL then casts to the column type (and refuses when it
/// does not fit, inside the change's transaction).
/// </summary>
public static class SchemaDdl
{
    private static readonly string[] KeyTypes = ["integer", "bigInteger", "uuid", "string"];

    public static string CreateTable(FieldSchema key)
    {
        if (!KeyTypes.Contains(key.Type))
            throw DirectusException.InvalidPayload($"A primary key must be of type {string.Join(", ", KeyTypes)}", key.Field);
        if (key.AutoIncrement && key.Type is not ("integer" or "bigInteger"))
            throw DirectusException.InvalidPayload($"Field \"{key.Field}\": only integer and bigInteger keys can auto-increment", key.Field);
        var generated = key.Type == "uuid" ? " default gen_random_uuid()" : Default(key);
        return $"create table {Quote(key.Collection)} ({Quote(key.Field)} {FieldTypes.ColumnType(key)} primary key{generated})";
    }

    public static string AddColumn(FieldSchema f)
    {
        if (f.IsPrimaryKey) throw DirectusException.InvalidPayload($"Field \"{f.Field}\": a collection has one primary key, set when it is created", f.Field);
        if (f.AutoIncrement) throw DirectusException.InvalidPayload($"Field \"{f.Field}\": only the primary key can auto-increment", f.Field);
        return $"alter table {Quote(f.Collection)} add column {Quote(f.Field)} {FieldTypes.ColumnType(f)}"
            + (f.Nullable ? "" : " not null") + Default(f)
            + (f.Unique ? $" constraint {Quote(Constraint(f.Collection, f.Field, "unique"))} unique" : "");
    }

    /// <summary>Directus's <c>is_indexed</c>: a plain b-tree index on the column (a unique or primary key has its own).</summary>
    public static string? Index(FieldSchema f) => f.Indexed && !f.Unique && !f.IsPrimaryKey && !f.IsAlias
        ? $"create index {Quote(Constraint(f.Collection, f.Field, "index"))} on {Quote(f.Collection)} ({Quote(f.Field)})" : null;

    /// <summary>The statements that turn column <paramref name="was"/> into <paramref name="now"/>, in an order PostgreSQL accepts.</summary>
    public static IEnumerable<string> AlterColumn(FieldSchema was, FieldSchema now)
    {
        var table = $"alter table {Quote(now.Collection)} alter column {Quote(now.Field)}";
        var type = FieldTypes.ColumnType(now with { AutoIncrement = false });
        if (type != FieldTypes.ColumnType(was with { AutoIncrement = false }) || now.Type != was.Type)
        {
            // The old default may not cast to the new type: drop it first, set the new one after.
            yield return $"{table} drop default";
            yield return $"{table} type {type} using {Quote(now.Field)}::{type}";
        }
        if (!JsonNode.DeepEquals(was.DefaultValue, now.DefaultValue) || type != FieldTypes.ColumnType(was with { AutoIncrement = false }))
            if (!now.AutoIncrement)
                yield return now.DefaultValue is null ? $"{table} drop default" : $"{table} set{Default(now)}";
        if (was.Nullable != now.Nullable) yield return $"{table} {(now.Nullable ? "drop" : "set")} not null";
        if (was.Unique != now.Unique && !now.IsPrimaryKey)
        {
            var name = Quote(Constraint(now.Collection, now.Field, "unique"));
            yield return now.Unique
                ? $"alter table {Quote(now.Collection)} add constraint {name} unique ({Quote(now.Field)})"
                : $"alter table {Quote(now.Collection)} drop constraint if exists {name}";
        }
        var (hadIndex, hasIndex) = (Index(was) is not null, Index(now) is not null);
        if (hadIndex && (!hasIndex || type != FieldTypes.ColumnType(was with { AutoIncrement = false })))
            yield return $"drop index if exists {Quote(Constraint(now.Collection, now.Field, "index"))}";
        if (hasIndex && (!hadIndex || type != FieldTypes.ColumnType(was with { AutoIncrement = false })))
            yield return Index(now)!;
    }

    public static string DropColumn(FieldSchema f) => $"alter table {Quote(f.Collection)} drop column {Quote(f.Field)}";

    public static string DropTable(string collection) => $"drop table {Quote(collection)}";

    public static string AddForeignKey(RelationSchema r, string relatedKey) =>
        $"alter table {Quote(r.Collection)} add constraint {Quote(Constraint(r.Collection, r.Field, "foreign"))} foreign key ({Quote(r.Field)}) "
        + $"references {Quote(r.RelatedCollection!)} ({Quote(relatedKey)}) on delete {OnDelete(r.OnDelete)}";

    public static string DropForeignKey(RelationSchema r) =>
        $"alter table {Quote(r.Collection)} drop constraint if exists {Quote(r.ConstraintName ?? Constraint(r.Collection, r.Field, "foreign"))}";

    /// <summary>Only the five SQL actions ever reach a statement.</summary>
    private static string OnDelete(string action) =>
        SchemaPayload.OnDeleteActions.Contains(action) ? action : throw new ArgumentOutOfRangeException(nameof(action), action, null);

    /// <summary><c> default …</c> for the field's default value, or nothing.</summary>
    private static string Default(FieldSchema f)
    {
        var value = f.DefaultValue;
        if (value is null) return "";
        var path = $"schema.default_value";
        string Invalid(string expected) =>
            throw DirectusException.InvalidPayload($"\"{path}\" of field \"{f.Field}\" must be {expected} for type {f.Type}", path);
        if (value is not JsonValue v)
            return f.Type == "json" ? $" default {Literal(value.ToJsonString())}" : Invalid("a single value");
        var kind = v.GetValueKind();
        if (kind == JsonValueKind.String && v.GetValue<string>() == "CURRENT_TIMESTAMP" && f.Type is "date" or "dateTime" or "time" or "timestamp")
            return " default current_timestamp";
        return f.Type switch
        {
            "integer" or "bigInteger" or "float" or "decimal" => kind switch
            {
                JsonValueKind.Number => $" default {v.ToJsonString()}",
                JsonValueKind.String => $" default {Literal(v.GetValue<string>())}",
                _ => Invalid("a number"),
            },
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False ? $" default {(v.GetValue<bool>() ? "true" : "false")}" : Invalid("true or false"),
            "json" => $" default {Literal(value.ToJsonString())}",
            _ => kind == JsonValueKind.String ? $" default {Literal(v.GetValue<string>())}" : Invalid("a string"),
        };
    }

    private static string Literal(string text) =>
        text.Contains('\0') ? throw DirectusException.InvalidPayload("\"schema.default_value\" can't contain a NUL character", "schema.default_value")
            : "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";
}
