using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Query;
using AiAssistant.Services.Tools.Content.Schema;
using Npgsql;

namespace AiAssistant.Services.Tools.Content.Items;

/// <summary>
/// The writes of one request inside its transaction, each under the caller's grant for its action on its collection
/// (nested writes under the related collection's). A key the grant's row filter excludes is refused exactly like an
/// unknown key (403), so a write cannot probe for rows the caller may not touch. Identifiers come from the schema
/// only, quoted; every value is a typed parameter.
/// </summary>
public sealed class ItemsWrite(SchemaSnapshot schema, WriteCaller caller, ItemsReader reader, NpgsqlTransaction transaction,
    IReadOnlyList<IWriteFilter> filters, SharedTransaction shared, CancellationToken ct)
{
    /// <summary>Every row this write created, updated or deleted, nested rows too: what <see cref="IWriteFollower"/>s hear of it.</summary>
    public List<(string Action, string Collection, JsonNode Key)> Written { get; } = [];

    /// <summary>
    /// Creates one item (its m2o objects first, its o2m objects after) and answers its key. <paramref name="system"/>:
    /// values the store itself sets (a file's size, type, storage key), outside the caller's grant and over the payload.
    /// </summary>
    public async Task<JsonNode> CreateAsync(string collection, JsonObject payload, JsonObject? system = null)
    {
        payload = Object(await FilterAsync("create", collection, payload, null));
        var table = Table(collection);
        var grant = Grant(collection, "create");
        var rules = caller.Permissions.Rules(collection, "create");
        CheckFields(table, payload, grant);
        var values = new JsonObject();
        foreach (var (field, preset) in rules.Presets) values[field] = DynamicValues.Resolve(preset, caller.Context);
        foreach (var (field, value) in payload) values[field] = value?.DeepClone();
        if (rules.Validation is { } validation) PayloadValidation.Check(validation, values, creating: true, caller.Context);
        foreach (var (field, value) in system ?? []) values[field] = value?.DeepClone();
        Stamp(table, values, "date-created", "user-created");
        if (table.Field(table.PrimaryKey!) is { Type: "uuid" } uuidKey && values[uuidKey.Field] is null) values[uuidKey.Field] = Guid.NewGuid().ToString();

        var children = await ResolveRelationsAsync(table, values);
        var scope = Scope();
        var columns = Columns(table, values);
        var sql = columns.Count == 0
            ? $"insert into {CompileScope.Quote(collection)} as t0 default values"
            : $"insert into {CompileScope.Quote(collection)} as t0 ({string.Join(", ", columns.Select(c => CompileScope.Quote(c.Field.Field)))}) "
              + $"values ({string.Join(", ", columns.Select(c => Param(scope, c.Field, c.Value)))})";
        var key = await WriteRowAsync("create", scope, table, sql, Delta(columns)) ?? throw new InvalidOperationException("insert returned no row");
        await WriteChildrenAsync(children, key, replacing: false);
        return key;
    }

    /// <summary>Updates one item inside the update grant and answers its key; an unknown key or one outside the grant is 403.</summary>
    public Task<JsonNode> UpdateAsync(string collection, JsonNode key, JsonObject payload) => UpdateAsync(collection, key, payload, rowsChecked: false);

    /// <summary>Updates several items, every key checked against the grant's row filter before any is written or validated.</summary>
    public async Task<IReadOnlyList<JsonNode>> UpdateManyAsync(string collection, IReadOnlyList<(JsonNode Key, JsonObject Data)> items)
    {
        var grant = Grant(collection, "update");
        if (grant.RowFilter is not null) await RequireWithinAsync(Table(collection), grant, items.Select(i => i.Key).ToList());
        var updated = new List<JsonNode>();
        foreach (var (key, data) in items) updated.Add(await UpdateAsync(collection, key, data, rowsChecked: true));
        return updated;
    }

    private async Task<JsonNode> UpdateAsync(string collection, JsonNode key, JsonObject payload, bool rowsChecked)
    {
        payload = Object(await FilterAsync("update", collection, payload, [key]));
        var table = Table(collection);
        var grant = Grant(collection, "update");
        var values = (JsonObject)payload.DeepClone();
        values.Remove(table.PrimaryKey!);
        CheckFields(table, values, grant);
        // the row filter first: a row outside it is refused as unknown, before its validation could tell it apart;
        // a field only some policies grant may be written only on the rows those policies admit
        var hidden = values.Select(v => grant.Guard(v.Key)).OfType<Filter>().ToList();
        if (hidden.Count > 0)
            await RequireWithinAsync(table, grant with { RowFilter = new AndFilter([.. grant.RowFilter is { } rows ? [rows] : Array.Empty<Filter>(), .. hidden]) }, [key]);
        else if (grant.RowFilter is not null && !rowsChecked) await RequireWithinAsync(table, grant, [key]);
        if (caller.Permissions.Rules(collection, "update").Validation is { } validation)
            PayloadValidation.Check(validation, values, creating: false, caller.Context);
        Stamp(table, values, "date-updated", "user-updated");

        var children = await ResolveRelationsAsync(table, values);
        var scope = Scope();
        var columns = Columns(table, values);
        var pk = CompileScope.Quote(table.PrimaryKey!);
        // an update of relations only still touches the row, so an unknown key is found out the same way
        var set = columns.Count == 0 ? $"{pk} = t0.{pk}" : string.Join(", ", columns.Select(c => $"{CompileScope.Quote(c.Field.Field)} = {Param(scope, c.Field, c.Value)}"));
        var sql = $"update {CompileScope.Quote(collection)} as t0 set {set} where t0.{pk} = {Param(scope, table.Field(table.PrimaryKey!)!, key)}";
        var written = await WriteRowAsync("update", scope, table, sql, Delta(columns)) ?? throw DirectusException.Forbidden();
        await WriteChildrenAsync(children, written, replacing: true);
        return written;
    }

    /// <summary>Deletes the items with <paramref name="keys"/> inside the delete grant; any unknown key or one outside it is 403 and nothing is deleted.</summary>
    public async Task<IReadOnlyList<JsonNode>> DeleteAsync(string collection, IReadOnlyList<JsonNode> keys)
    {
        await FilterAsync("delete", collection, new JsonArray(keys.Select(k => k.DeepClone()).ToArray()), keys);
        var table = Table(collection);
        var grant = Grant(collection, "delete");
        if (grant.RowFilter is not null) await RequireWithinAsync(table, grant, keys);
        var pk = table.Field(table.PrimaryKey!)!;
        foreach (var key in keys)
        {
            var scope = Scope();
            var sql = $"delete from {CompileScope.Quote(collection)} as t0 where t0.{CompileScope.Quote(pk.Field)} = {Param(scope, pk, key)}";
            _ = await WriteRowAsync("delete", scope, table, sql, null) ?? throw DirectusException.Forbidden();
        }
        return keys;
    }

    /// <summary>A singleton's one row: updated when it exists, created otherwise.</summary>
    public async Task<JsonNode> UpsertSingletonAsync(string collection, JsonObject payload)
    {
        var table = Table(collection);
        var pk = table.Field(table.PrimaryKey!)!;
        var column = "t0." + CompileScope.Quote(pk.Field);
        await using var command = new NpgsqlCommand(
            $"select to_json({ColumnValues.Output(pk, column)})::text from {CompileScope.Quote(collection)} as t0 order by {column} limit 1 for update",
            transaction.Connection, transaction);
        return await command.ExecuteScalarAsync(ct) is string key
            ? await UpdateAsync(collection, JsonNode.Parse(key)!, payload)
            : await CreateAsync(collection, payload);
    }

    /// <summary>
    /// The filters before one write (a create or an update per item, a delete per call, as Directus emits them), while
    /// writes they cause join this transaction; a flow's own writes run them only when it asks (<c>emitEvents</c>).
    /// </summary>
    private async Task<JsonNode> FilterAsync(string action, string collection, JsonNode payload, IReadOnlyList<JsonNode>? keys)
    {
        if (filters.Count == 0 || !caller.EmitEvents) return payload;
        using var joined = shared.Enter();
        foreach (var filter in filters) payload = await filter.FilterAsync(caller, action, collection, payload, keys, ct);
        return payload;
    }

    private static JsonObject Object(JsonNode payload) =>
        payload as JsonObject ?? throw DirectusException.InvalidPayload("A filter answered something other than an object of field values for the item");

    private CollectionSchema Table(string collection) =>
        schema.Collection(collection) is { PrimaryKey: not null } table ? table : throw QueryErrors.ForbiddenCollection(collection);

    private CollectionReadAccess Grant(string collection, string action) =>
        caller.Permissions.Action(collection, action) ?? throw QueryErrors.ForbiddenCollection(collection);

    /// <summary>
    /// A field outside the grant is 403 with Directus's message, unknown fields included, so a payload cannot probe the
    /// schema. Admins are not checked: Directus writes the fields the collection has and ignores the rest.
    /// </summary>
    private void CheckFields(CollectionSchema table, JsonObject payload, CollectionReadAccess grant)
    {
        // a system collection's read-only fields are the store's own (a file's storage key, size, type), for admins too
        if (table.Meta.System && payload.Select(p => table.Field(p.Key)).FirstOrDefault(f => f?.Meta?.Readonly == true) is { } owned)
            throw DirectusException.InvalidPayload($"Field \"{owned.Field}\" of \"{table.Collection}\" is set by the store and can't be written", owned.Field);
        if (caller.Permissions.IsAdmin) return;
        foreach (var (field, _) in payload)
            if (table.Field(field) is null || !grant.CanRead(field)) throw QueryErrors.ForbiddenField(field, table.Collection);
    }

    /// <summary>Directus's special fields: the time and the user of the write, whatever the payload says.</summary>
    private void Stamp(CollectionSchema table, JsonObject values, string dateSpecial, string userSpecial)
    {
        foreach (var field in table.Fields.Values)
        {
            if (field.Special.Contains(dateSpecial))
                values[field.Field] = caller.Context.Time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            else if (field.Special.Contains(userSpecial))
                values[field.Field] = caller.Context.UserId;
        }
    }

    /// <summary>
    /// An m2o given as an object is written first and its key stored; an o2m (for a many-to-many, the o2m to its
    /// junction) given as a list or as <c>{create, update, delete}</c> is returned to write once the parent's key is known.
    /// </summary>
    private async Task<List<(RelationSchema Relation, JsonNode Value)>> ResolveRelationsAsync(CollectionSchema table, JsonObject values)
    {
        var children = new List<(RelationSchema, JsonNode)>();
        foreach (var (field, value) in values.ToList())
        {
            if (table.Field(field) is not { } f) continue;
            if (!f.IsAlias && value is JsonObject related && schema.ManyToOne(table.Collection, field) is { RelatedCollection: { } target })
                values[field] = await WriteRelatedAsync(target, related, null);
            else if (f.IsAlias && value is JsonArray or JsonObject && schema.OneToMany(table.Collection, field) is { } o2m)
                children.Add((o2m, value));
            else if (f.IsAlias && value is not null)
                throw DirectusException.InvalidPayload($"Field \"{field}\" of collection \"{table.Collection}\" is written through its related items: give a list, or an object of \"create\", \"update\" and \"delete\" lists", field);
        }
        return children;
    }

    /// <summary>
    /// Writes the o2m items of a parent as Directus does: a list is the whole set (on an update, the related rows it no
    /// longer names are deselected), <c>{create, update, delete}</c> changes only the rows it names. A many-to-many is
    /// the same o2m to its junction rows, whose m2o to the far side is written as any m2o.
    /// </summary>
    private async Task WriteChildrenAsync(List<(RelationSchema Relation, JsonNode Value)> children, JsonNode parentKey, bool replacing)
    {
        foreach (var (relation, value) in children)
        {
            var link = (relation.Field, parentKey);
            if (value is JsonArray items)
            {
                // on a create nothing points at the new parent yet
                var linked = replacing ? await LinkedAsync(relation, parentKey) : [];
                var linkedKeys = linked.Select(KeyText).ToHashSet();
                var kept = new HashSet<string>();
                foreach (var item in items)
                {
                    // a key already linked is left alone, so an unchanged set writes nothing (Directus skips it too)
                    if (item is JsonValue && linkedKeys.Contains(KeyText(item))) kept.Add(KeyText(item));
                    else kept.Add(KeyText(await WriteRelatedAsync(relation.Collection, RelatedItem(relation, item), link)));
                }
                if (linked.Where(k => !kept.Contains(KeyText(k))).ToList() is { Count: > 0 } dropped) await DeselectAsync(relation, dropped);
                continue;
            }
            var (create, update, delete) = Alterations(relation, (JsonObject)value);
            foreach (var item in create)
            {
                var payload = (JsonObject)item.DeepClone();
                payload[relation.Field] = parentKey.DeepClone();
                await CreateAsync(relation.Collection, payload);
            }
            foreach (var item in update) await WriteRelatedAsync(relation.Collection, item, link); // it has its key: an update that links it
            if (delete.Count == 0) continue;
            // only rows of this parent are deselected; other keys are ignored, as Directus's delete-by-query ignores them
            var named = delete.Select(KeyText).ToHashSet();
            if ((await LinkedAsync(relation, parentKey)).Where(k => named.Contains(KeyText(k))).ToList() is { Count: > 0 } deselected)
                await DeselectAsync(relation, deselected);
        }
    }

    /// <summary>An o2m list entry: an object of the related item, or the key of an existing one.</summary>
    private JsonObject RelatedItem(RelationSchema relation, JsonNode? item) => item switch
    {
        JsonObject o => o,
        JsonValue v when v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number => new JsonObject { [Table(relation.Collection).PrimaryKey!] = v.DeepClone() },
        _ => throw DirectusException.InvalidPayload($"Each item of \"{relation.OneField}\" must be an object or the primary key of an item of \"{relation.Collection}\"", relation.OneField),
    };

    /// <summary>The <c>create</c>, <c>update</c> and <c>delete</c> lists of a detailed o2m write, checked as Directus's <c>nestedUpdateSchema</c> checks them.</summary>
    private (List<JsonObject> Create, List<JsonObject> Update, List<JsonNode> Delete) Alterations(RelationSchema relation, JsonObject value)
    {
        var pk = Table(relation.Collection).PrimaryKey!;
        DirectusException Invalid(string reason) => DirectusException.InvalidPayload($"Invalid one-to-many update structure: {reason}", relation.OneField);
        List<JsonNode?> List(string name) => value[name] switch
        {
            null when !value.ContainsKey(name) => [],
            JsonArray list => list.ToList(),
            _ => throw Invalid($"\"{name}\" must be an array"),
        };
        foreach (var (name, _) in value)
            if (name is not ("create" or "update" or "delete")) throw Invalid($"\"{name}\" is not allowed");
        var create = List("create").Select(i => i as JsonObject ?? throw Invalid("\"create\" must list objects")).ToList();
        var update = List("update").Select(i => i is JsonObject { } o && o[pk] is JsonValue ? o : throw Invalid($"\"update\" must list objects with their \"{pk}\"")).ToList();
        var delete = List("delete").Select(i => i is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number ? v : throw Invalid("\"delete\" must list primary keys")).ToList<JsonNode>();
        return (create, update, delete);
    }

    /// <summary>The keys of the related rows whose foreign key names <paramref name="parentKey"/>, locked until the transaction ends.</summary>
    private async Task<List<JsonNode>> LinkedAsync(RelationSchema relation, JsonNode parentKey)
    {
        var table = Table(relation.Collection);
        var pk = table.Field(table.PrimaryKey!)!;
        var fk = table.Field(relation.Field) ?? throw QueryErrors.ForbiddenCollection(relation.Collection);
        var scope = Scope();
        var sql = $"select to_json({ColumnValues.Output(pk, "t0." + CompileScope.Quote(pk.Field))})::text from {CompileScope.Quote(table.Collection)} as t0 "
                  + $"where t0.{CompileScope.Quote(fk.Field)} = {Param(scope, fk, parentKey)} for update";
        await using var command = scope.Statement(sql).CreateCommand(transaction);
        await using var rows = await command.ExecuteReaderAsync(ct);
        var keys = new List<JsonNode>();
        while (await rows.ReadAsync(ct)) keys.Add(JsonNode.Parse(rows.GetString(0))!);
        return keys;
    }

    /// <summary>
    /// Related rows leaving a parent's set: a junction row is deleted (it means nothing without its parent); an o2m row
    /// is deleted or has its foreign key cleared as its relation's <c>one_deselect_action</c> says. Either is checked
    /// against the caller's delete or update grant on that collection.
    /// </summary>
    private async Task DeselectAsync(RelationSchema relation, IReadOnlyList<JsonNode> keys)
    {
        if (relation.JunctionField is not null || relation.OneDeselectAction == "delete") await DeleteAsync(relation.Collection, keys);
        else await UpdateManyAsync(relation.Collection, keys.Select(k => (k, new JsonObject { [relation.Field] = null })).ToList());
    }

    /// <summary>A related item with its key is updated (or only linked), one without is created; <paramref name="link"/> sets the o2m foreign key.</summary>
    private async Task<JsonNode> WriteRelatedAsync(string collection, JsonObject item, (string Field, JsonNode Key)? link)
    {
        var table = Table(collection);
        var payload = (JsonObject)item.DeepClone();
        if (link is var (field, key)) payload[field] = key.DeepClone();
        if (table.Meta.System && !(payload.Count == 1 && payload[table.PrimaryKey!] is not null))
            throw DirectusException.InvalidPayload($"Items of system collection \"{collection}\" are written through their own routes (/files, /folders); link one by its key");
        return payload[table.PrimaryKey!] is { } existing && payload.Count > 1
            ? await UpdateAsync(collection, existing.DeepClone(), payload)
            : payload[table.PrimaryKey!] is { } only ? only.DeepClone() : await CreateAsync(collection, payload);
    }

    /// <summary>A key as one text whether it came as a number or a string: <c>5</c> and <c>"5"</c> name the same row.</summary>
    private static string KeyText(JsonNode? key) =>
        key is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : key?.ToJsonString() ?? "null";

    /// <summary>The columns of <paramref name="values"/> the table has, in payload order; aliases and unknown fields are not columns.</summary>
    private static List<(FieldSchema Field, JsonNode? Value)> Columns(CollectionSchema table, JsonObject values) =>
        values.Where(v => table.Field(v.Key) is { IsAlias: false }).Select(v => (table.Field(v.Key)!, v.Value)).ToList();

    private static JsonObject Delta(List<(FieldSchema Field, JsonNode? Value)> columns) =>
        new(columns.Select(c => KeyValuePair.Create(c.Field.Field, c.Value?.DeepClone())));

    /// <summary>403 unless every key is a row the grant's row filter admits (in this transaction, so the check and the write see the same rows).</summary>
    private async Task RequireWithinAsync(CollectionSchema table, CollectionReadAccess grant, IReadOnlyList<JsonNode> keys)
    {
        var pk = table.PrimaryKey!;
        var access = new DelegateAccess(c => c == table.Collection ? grant with { Fields = null, Grants = null } : caller.Permissions.Read(c));
        var query = new ItemQuery
        {
            Fields = [pk], Limit = -1,
            Filter = new FieldCondition(pk, FilterOperator.In, new JsonArray(keys.Select(k => k.DeepClone()).ToArray())),
        };
        var found = await reader.ReadAsync(schema, table.Collection, query, access, caller.Context, transaction, ct);
        if (found.Items.Count < keys.Select(KeyText).Distinct().Count()) throw DirectusException.Forbidden();
    }

    private CompileScope Scope() => new(schema, caller.Permissions, caller.Context);

    /// <summary>A value as a parameter of its column's type: 400 <c>INVALID_PAYLOAD</c> or <c>VALUE_TOO_LONG</c> naming the field, before PostgreSQL sees it.</summary>
    private static string Param(CompileScope scope, FieldSchema field, JsonNode? value)
    {
        var sqlType = ColumnValues.SqlType(field);
        object converted = value switch
        {
            null => DBNull.Value,
            _ when field.Type == "json" => value.ToJsonString(),
            JsonArray list when field.Type == "csv" => string.Join(",", list.Select(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : i?.ToJsonString())),
            JsonValue v => ColumnValues.TryConvert(field, v) ?? throw Invalid(field, value),
            _ => throw Invalid(field, value),
        };
        if (converted is string text && field.Type is "string" or "hash" && text.Length > (field.MaxLength ?? 255))
            throw WriteErrors.TooLong(field.Field, field.Collection);
        return scope.Param(converted, sqlType);
    }

    private static DirectusException Invalid(FieldSchema field, JsonNode value) => DirectusException.InvalidPayload(
        $"{value.ToJsonString()} is not a valid {field.Type} for field \"{field.Field}\" in collection \"{field.Collection}\"", field.Field);

    /// <summary>
    /// Runs one write with its activity row, and for a create or an update (<paramref name="delta"/> given) its revision:
    /// the whole row after the write and the fields written. One statement, so one round trip per item. Answers the key
    /// as Directus shows it; null when no row matched (and then nothing is recorded).
    /// </summary>
    private async Task<JsonNode?> WriteRowAsync(string action, CompileScope scope, CollectionSchema table, string sql, JsonObject? delta)
    {
        var pk = table.Field(table.PrimaryKey!)!;
        var column = "t0." + CompileScope.Quote(pk.Field);
        string Text(string? value) => value is null ? "null::text" : scope.Param(value, "text");
        var user = Guid.TryParse(caller.Context.UserId, out var id) ? scope.Param(id, "uuid") : "null::uuid";
        var collection = Text(table.Collection);
        var revision = delta is null ? "" : $"""
            , r as (insert into content_revisions (activity, collection, item, data, delta)
                    select a.id, {collection}, w.item, w.row, {scope.Param(delta.ToJsonString(), "jsonb")} from a, w)
            """;
        var statement = $"""
            with w as ({sql} returning to_json({ColumnValues.Output(pk, column)})::text as key, {column}::text as item, to_jsonb(t0) as row),
            a as (insert into content_activity (action, "user", ip, user_agent, collection, item, origin)
                  select {Text(action)}, {user}, {Text(caller.Ip)}, {Text(caller.UserAgent)}, {collection}, w.item, {Text(caller.Origin)} from w returning id)
            {revision}
            select w.key from w
            """;
        await using var command = scope.Statement(statement).CreateCommand(transaction);
        var written = await command.ExecuteScalarAsync(ct) is string key ? JsonNode.Parse(key) : null;
        if (written is not null) Written.Add((action, table.Collection, written));
        return written;
    }
}
