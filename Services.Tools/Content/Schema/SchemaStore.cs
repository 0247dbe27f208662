using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.ServiceDefaults.Redis;
using Npgsql;
using StackExchange.Redis;
using static AiAssistant.Services.Tools.Content.Schema.SchemaPayload;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// Changes the CMS schema as Directus's collections, fields and relations services do. Every change is one
/// transaction (PostgreSQL DDL is transactional): it takes the schema lock, reads the schema as it is, runs its DDL and
/// system-table writes, bumps the version and writes <see cref="SchemaChanged"/> to the outbox, so a failing step
/// leaves no table, column, constraint or row behind. After the commit this replica's <see cref="SchemaCache"/> is
/// refreshed before the call returns (read-your-writes), and the Redis version tells replicas that miss the event.
/// A collection that does not exist answers 403 FORBIDDEN, as Directus does.
/// </summary>
public sealed class SchemaStore(
    NpgsqlDataSource dataSource,
    SchemaCache cache,
    OutboxSignal outbox,
    IConnectionMultiplexer redis,
    ILogger<SchemaStore> logger)
{
    /// <summary><c>POST /collections</c>: a folder without <c>schema</c>, else a table with its key and the body's <c>fields</c>.</summary>
    public async Task<CollectionSchema> CreateCollectionAsync(JsonObject body, CancellationToken ct) =>
        (await CreateCollectionsAsync([body], ct))[0];

    /// <summary>Several collections in one change: all are created, or none.</summary>
    public async Task<IReadOnlyList<CollectionSchema>> CreateCollectionsAsync(IReadOnlyList<JsonObject> bodies, CancellationToken ct)
    {
        var steps = bodies.Select(CreateCollectionStep).ToList();
        var names = steps.Select(s => s.Name).ToList();
        var schema = await ChangeAsync(names, steps.Select(s => s.Apply).ToList(), ct);
        return names.Select(n => schema.Collection(n)!).ToList();
    }

    private static (string Name, Step Apply) CreateCollectionStep(JsonObject body)
    {
        var name = SchemaNames.Collection(Str(body, "collection", "collection"));
        var meta = CollectionMeta(Obj(body, "meta", "meta"), new CollectionMeta());
        var isTable = body["schema"] is JsonObject;
        var fields = Fields(name, body, isTable);
        return (name, async (change, token) =>
        {
            if (change.Schema.Collection(name) is not null || await change.RelationExistsAsync(name, token))
                throw DirectusException.InvalidPayload($"Collection \"{name}\" already exists", "collection");
            await change.InsertCollectionAsync(name, meta, token);
            if (!isTable) return;
            await change.DdlAsync(SchemaDdl.CreateTable(fields[0]), fields[0].Field, token);
            foreach (var field in fields)
            {
                if (!field.IsPrimaryKey && !field.IsAlias) await change.DdlAsync(SchemaDdl.AddColumn(field), field.Field, token);
                if (SchemaDdl.Index(field) is { } index) await change.DdlAsync(index, field.Field, token);
                await change.InsertFieldAsync(field, token);
            }
        });
    }

    /// <summary><c>PATCH /collections/:collection</c>: the meta only, as in Directus.</summary>
    public async Task<CollectionSchema> UpdateCollectionAsync(string collection, JsonObject body, CancellationToken ct) =>
        (await UpdateCollectionsAsync([(collection, body)], ct))[0];

    /// <summary>Several collections' meta in one change.</summary>
    public async Task<IReadOnlyList<CollectionSchema>> UpdateCollectionsAsync(IReadOnlyList<(string Collection, JsonObject Body)> updates, CancellationToken ct)
    {
        var schema = await ChangeAsync(updates.Select(u => u.Collection).ToList(), updates.Select(u => (Step)(async (change, token) =>
        {
            var current = Existing(change.Schema, u.Collection);
            await change.UpdateCollectionAsync(u.Collection, CollectionMeta(Obj(u.Body, "meta", "meta"), current.Meta), token);
        })).ToList(), ct);
        return updates.Select(u => schema.Collection(u.Collection)!).ToList();
    }

    /// <summary>
    /// <c>DELETE /collections/:collection</c>, as Directus: the table, its fields and relations; the o2m aliases that
    /// list it and the m2o fields (columns) of other collections that point at it; child collections leave the folder.
    /// </summary>
    public Task DeleteCollectionAsync(string collection, CancellationToken ct) => DeleteCollectionsAsync([collection], ct);

    /// <summary>Several collections deleted in one change: all, or none.</summary>
    public Task DeleteCollectionsAsync(IReadOnlyList<string> collections, CancellationToken ct) =>
        ChangeAsync(collections, collections.Select(DeleteCollectionStep).ToList(), ct);

    private static Step DeleteCollectionStep(string collection) => async (change, token) =>
    {
        var current = Existing(change.Schema, collection);
        foreach (var r in change.Schema.Relations.Where(r => r.Collection == collection || r.RelatedCollection == collection))
        {
            if (r.RelatedCollection is { } related && related != collection && r.OneField is { } alias)
                await change.DeleteFieldAsync(related, alias, token);
            if (r.RelatedCollection == collection && r.Collection != collection)
            {
                if (change.Schema.Collection(r.Collection)?.Field(r.Field) is { IsAlias: false } column)
                    await change.DdlAsync(SchemaDdl.DropColumn(column), r.Field, token);
                await change.DeleteFieldAsync(r.Collection, r.Field, token);
                await change.DeleteRelationAsync(r.Collection, r.Field, token);
            }
        }
        if (!current.IsFolder) await change.DdlAsync(SchemaDdl.DropTable(collection), collection, token);
        await change.DeleteCollectionAsync(collection, token);
    };

    /// <summary><c>POST /fields/:collection</c>: a column (or an alias without one) and its meta.</summary>
    public async Task<FieldSchema> CreateFieldAsync(string collection, JsonObject body, CancellationToken ct) =>
        (await CreateFieldsAsync(collection, [body], ct))[0];

    /// <summary>Several fields of one collection in one change: all are created, or none.</summary>
    public async Task<IReadOnlyList<FieldSchema>> CreateFieldsAsync(string collection, IReadOnlyList<JsonObject> bodies, CancellationToken ct)
    {
        var fields = bodies.Select(b => NewField(collection, b)).ToList();
        var schema = await ChangeAsync([collection], fields.Select(field => (Step)(async (change, token) =>
        {
            var current = Table(change.Schema, collection);
            if (current.Field(field.Field) is not null)
                throw DirectusException.InvalidPayload($"Field \"{field.Field}\" already exists in collection \"{collection}\"", "field");
            if (!field.IsAlias) await change.DdlAsync(SchemaDdl.AddColumn(field), field.Field, token);
            if (SchemaDdl.Index(field) is { } index) await change.DdlAsync(index, field.Field, token);
            await change.InsertFieldAsync(field, token);
        })).ToList(), ct);
        return fields.Select(f => schema.Collection(collection)!.Field(f.Field)!).ToList();
    }

    /// <summary><c>PATCH /fields/:collection/:field</c>: meta, and the column's type, length, default, nullable, unique.</summary>
    public async Task<FieldSchema> UpdateFieldAsync(string collection, string field, JsonObject body, CancellationToken ct) =>
        (await UpdateFieldsAsync(collection, [(field, body)], ct))[0];

    /// <summary>Several fields of one collection changed in one change: all, or none.</summary>
    public async Task<IReadOnlyList<FieldSchema>> UpdateFieldsAsync(string collection, IReadOnlyList<(string Field, JsonObject Body)> updates, CancellationToken ct)
    {
        var schema = await ChangeAsync([collection], updates.Select(u => (Step)(async (change, token) =>
        {
            var was = ExistingField(change.Schema, collection, u.Field);
            var now = Field(was, u.Body);
            if (!now.IsAlias)
                foreach (var sql in SchemaDdl.AlterColumn(was, now)) await change.DdlAsync(sql, u.Field, token);
            await change.UpdateFieldAsync(now, token);
        })).ToList(), ct);
        return updates.Select(u => schema.Collection(collection)!.Field(u.Field)!).ToList();
    }

    /// <summary>
    /// <c>DELETE /fields/:collection/:field</c>, as Directus: a m2o takes its relation and the related o2m alias with it;
    /// an o2m alias leaves its relation without <c>one_field</c>. The primary key can't be deleted.
    /// </summary>
    public Task DeleteFieldAsync(string collection, string field, CancellationToken ct) => ChangeAsync(collection, async (change, token) =>
    {
        var current = ExistingField(change.Schema, collection, field);
        if (current.IsPrimaryKey) throw DirectusException.InvalidPayload($"Field \"{field}\" is the primary key of \"{collection}\" and can't be deleted", "field");
        if (change.Schema.ManyToOne(collection, field) is { } m2o)
        {
            await change.DeleteRelationAsync(collection, field, token);
            if (m2o.OneField is { } alias) await change.DeleteFieldAsync(m2o.RelatedCollection!, alias, token);
        }
        if (change.Schema.OneToMany(collection, field) is { } o2m) await change.ClearOneFieldAsync(o2m, token);
        if (!current.IsAlias) await change.DdlAsync(SchemaDdl.DropColumn(current), field, token);
        await change.DeleteFieldAsync(collection, field, token);
    }, ct);

    /// <summary>
    /// <c>POST /relations</c>: a many-to-one with a real foreign key (unless <c>schema</c> is null); with
    /// <c>meta.one_field</c> the o2m alias on the related collection is created too when it does not exist yet, and with
    /// <c>meta.junction_field</c> the relation is one half of a many-to-many through its collection.
    /// </summary>
    public async Task<RelationSchema> CreateRelationAsync(JsonObject body, CancellationToken ct)
    {
        var (relation, foreignKey) = NewRelation(body);
        var schema = await ChangeAsync(relation.Collection, async (change, token) =>
        {
            var many = CheckRelation(change.Schema, relation);
            if (many.Field(relation.Field) is not { IsAlias: false })
                throw DirectusException.InvalidPayload($"Field \"{relation.Field}\" doesn't exist in collection \"{relation.Collection}\"", "field");
            if (change.Schema.Relations.Any(r => r.Collection == relation.Collection && r.Field == relation.Field))
                throw DirectusException.InvalidPayload(
                    $"Field \"{relation.Field}\" in collection \"{relation.Collection}\" already has an associated relationship", "field");
            await EnsureOneFieldAsync(change, relation, token);
            if (foreignKey) await AddForeignKeyAsync(change, relation, token);
            await change.InsertRelationAsync(relation, token);
        }, ct);
        return schema.ManyToOne(relation.Collection, relation.Field)!;
    }

    /// <summary><c>PATCH /relations/:collection/:field</c>: meta, and <c>schema.on_delete</c> (the foreign key is rebuilt).</summary>
    public async Task<RelationSchema> UpdateRelationAsync(string collection, string field, JsonObject body, CancellationToken ct)
    {
        var schema = await ChangeAsync(collection, async (change, token) =>
        {
            var was = ExistingRelation(change.Schema, collection, field);
            var now = Relation(was, body);
            CheckRelation(change.Schema, now);
            await EnsureOneFieldAsync(change, now, token);
            if (was.ConstraintName is not null && was.OnDelete != now.OnDelete)
            {
                await change.DdlAsync(SchemaDdl.DropForeignKey(was), field, token);
                await AddForeignKeyAsync(change, now, token);
            }
            await change.UpdateRelationAsync(now, token);
        }, ct);
        return schema.ManyToOne(collection, field)!;
    }

    /// <summary><c>DELETE /relations/:collection/:field</c>: the foreign key and the row; the fields stay, as in Directus.</summary>
    public Task DeleteRelationAsync(string collection, string field, CancellationToken ct) => ChangeAsync(collection, async (change, token) =>
    {
        var current = ExistingRelation(change.Schema, collection, field);
        if (current.ConstraintName is not null) await change.DdlAsync(SchemaDdl.DropForeignKey(current), field, token);
        await change.DeleteRelationAsync(collection, field, token);
    }, ct);

    /// <summary>The fields a create body asks for, key first; without a key field, Directus's default <c>id</c> (integer, auto-increment).</summary>
    private static List<FieldSchema> Fields(string collection, JsonObject body, bool isTable)
    {
        var list = body["fields"] switch
        {
            null => [],
            JsonArray a => a.Select((f, i) => f is JsonObject o
                ? NewField(collection, o)
                : throw DirectusException.InvalidPayload($"\"fields[{i}]\" must be an object", "fields")).ToList(),
            _ => throw DirectusException.InvalidPayload("\"fields\" must be an array", "fields"),
        };
        if (!isTable)
            return list.Count == 0 ? list : throw DirectusException.InvalidPayload("A collection folder (no \"schema\") has no fields", "fields");
        if (list.GroupBy(f => f.Field).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw DirectusException.InvalidPayload($"Field \"{twice.Key}\" is given twice", "fields");
        var keys = list.Where(f => f.IsPrimaryKey).ToList();
        if (keys.Count > 1) throw DirectusException.InvalidPayload("A collection has one primary key field", "fields");
        if (keys.Count == 0)
        {
            if (list.Any(f => f.Field == "id"))
                throw DirectusException.InvalidPayload("Field \"id\" must be the primary key (schema.is_primary_key), or mark another field as the key", "fields");
            keys.Add(new FieldSchema(collection, "id", "integer", IsPrimaryKey: true, Nullable: false, Unique: true, AutoIncrement: true,
                Meta: new FieldMeta(Interface: "numeric", Readonly: true, Hidden: true)));
        }
        var key = keys[0] with { Nullable = false, Unique = true };
        if (key.Meta?.Sort is null) key = key with { Meta = (key.Meta ?? new FieldMeta()) with { Sort = 1 } };
        if (key.Type == "uuid" && !key.Special.Contains("uuid"))
            key = key with { Meta = (key.Meta ?? new FieldMeta()) with { Special = [.. key.Special, "uuid"] } };
        return [key, .. list.Where(f => !f.IsPrimaryKey).Select((f, i) => f.Meta?.Sort is null ? f with { Meta = (f.Meta ?? new FieldMeta()) with { Sort = i + 2 } } : f)];
    }

    /// <summary>The many side and the related side must be tables; the junction and sort fields must be fields of the many side.</summary>
    private static CollectionSchema CheckRelation(SchemaSnapshot schema, RelationSchema r)
    {
        var many = schema.Collection(r.Collection) is { IsFolder: false } c ? c
            : throw DirectusException.InvalidPayload($"Collection \"{r.Collection}\" doesn't exist", "collection");
        if (schema.Collection(r.RelatedCollection!) is not { IsFolder: false })
            throw DirectusException.InvalidPayload($"Collection \"{r.RelatedCollection}\" doesn't exist", "related_collection");
        foreach (var (value, path) in new[] { (r.JunctionField, "meta.junction_field"), (r.SortField, "meta.sort_field") })
            if (value is not null && many.Field(value) is null)
                throw DirectusException.InvalidPayload($"Field \"{value}\" doesn't exist in collection \"{r.Collection}\"", path);
        return many;
    }

    /// <summary>The o2m (or m2m) alias a relation names on its related collection: created when missing, refused when it is a column.</summary>
    private static async Task EnsureOneFieldAsync(SchemaChange change, RelationSchema r, CancellationToken ct)
    {
        if (r.OneField is null) return;
        var name = SchemaNames.Field(r.OneField, "meta.one_field");
        var related = change.Schema.Collection(r.RelatedCollection!)!;
        if (related.Meta.System)
            throw DirectusException.InvalidPayload($"System collection \"{related.Collection}\" can't get an alias field", "meta.one_field");
        switch (related.Field(name))
        {
            case { IsAlias: true }: return;
            case not null: throw DirectusException.InvalidPayload($"Field \"{name}\" of collection \"{related.Collection}\" is not an alias field", "meta.one_field");
        }
        var m2m = r.JunctionField is not null;
        await change.InsertFieldAsync(new FieldSchema(related.Collection, name, FieldTypes.Alias,
            Meta: new FieldMeta(Interface: m2m ? "list-m2m" : "list-o2m", Special: [m2m ? "m2m" : "o2m"])), ct);
    }

    private static Task AddForeignKeyAsync(SchemaChange change, RelationSchema r, CancellationToken ct) =>
        change.DdlAsync(SchemaDdl.AddForeignKey(r, change.Schema.Collection(r.RelatedCollection!)!.PrimaryKey!), r.Field, ct);

    /// <summary>A collection a change may touch: a system collection's shape is the store's own (403, as an unknown one).</summary>
    private static CollectionSchema Existing(SchemaSnapshot schema, string collection) =>
        schema.Collection(collection) is { Meta.System: false } c ? c : throw DirectusException.Forbidden();

    private static CollectionSchema Table(SchemaSnapshot schema, string collection) => Existing(schema, collection) is { IsFolder: false } c ? c
        : throw DirectusException.InvalidPayload($"Collection \"{collection}\" is a folder and has no fields", "collection");

    private static FieldSchema ExistingField(SchemaSnapshot schema, string collection, string field) =>
        Existing(schema, collection).Field(field) ?? throw DirectusException.Forbidden();

    private static RelationSchema ExistingRelation(SchemaSnapshot schema, string collection, string field) =>
        Existing(schema, collection) is not null && schema.ManyToOne(collection, field) is { } r ? r : throw DirectusException.Forbidden();

    /// <summary>One step of a schema change, against the schema as the steps before it left it.</summary>
    private delegate Task Step(SchemaChange change, CancellationToken ct);

    /// <summary>Runs <paramref name="apply"/> as one schema change and returns the schema after it.</summary>
    private Task<SchemaSnapshot> ChangeAsync(string collection, Step apply, CancellationToken ct) => ChangeAsync([collection], [apply], ct);

    /// <summary>
    /// Runs <paramref name="steps"/> as one schema change (one transaction, one version, one event) and returns the
    /// schema after it. Each step reads the schema again inside the transaction, so it sees what the steps before it did.
    /// </summary>
    private async Task<SchemaSnapshot> ChangeAsync(IReadOnlyList<string> collections, IReadOnlyList<Step> steps, CancellationToken ct)
    {
        var collection = string.Join(",", collections.Distinct());
        long version;
        await using (var connection = await dataSource.OpenConnectionAsync(ct))
        await using (var tx = await connection.BeginTransactionAsync(ct))
        {
            version = await SchemaChange.NextVersionAsync(connection, tx, ct);
            foreach (var step in steps)
            {
                var (_, schema) = await SchemaReader.ReadAsync(connection, tx, ct);
                await step(new SchemaChange(connection, tx, schema), ct);
            }
            await OutboxWriter.AddAsync(connection, tx, new SchemaChanged(version, collection, DateTimeOffset.UtcNow), ct);
            await tx.CommitAsync(ct);
        }
        outbox.Notify();
        try
        {
            await redis.GetDatabase().SetIfGreaterAsync(ResourceNames.SchemaVersionKey, version);
        }
        catch (Exception e) when (e.IsRedisFailure())
        {
            logger.LogWarning("Schema version {Version} not written to Redis ({ExceptionType})", version, e.GetType().Name);
        }
        logger.LogInformation("Schema changed to version {Version} ({Collection})", version, collection);
        return await cache.RefreshAsync(version, ct);
    }
}
