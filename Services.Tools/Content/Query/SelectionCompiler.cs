using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// The requested fields as one JSON object built by the database per row: columns directly, a many-to-one as a
/// correlated subquery (null when the related row is invisible), a one-to-many or many-to-many as a
/// <c>json_agg</c> of the related rows (their keys when no nested field is asked). Every level reads under its own
/// collection's permission: <c>*</c> expands to readable fields only, and a named unreadable field is a 403.
/// </summary>
internal sealed class SelectionCompiler(CompileScope scope, FilterCompiler filters, QueryLimits limits)
{
    private const int PairsPerObject = 50; // json_build_object takes at most 100 arguments

    private sealed record Entry(string Key, bool KeyFromRequest, FieldSchema Field, FieldTree? Child, ItemQuery? Deep);

    public string Object(CollectionSchema collection, string alias, FieldTree tree, ItemQuery level, CollectionReadAccess access)
    {
        var pairs = Entries(collection, tree, level, access)
            .Select(e => (Key: e.KeyFromRequest ? scope.Param(e.Key, "text") : CompileScope.Literal(e.Key), Value: Value(collection, alias, e)))
            .ToList();
        if (pairs.Count == 0) return "'{}'::json";
        var chunks = pairs.Chunk(PairsPerObject).Select(c => string.Join(", ", c.Select(p => $"{p.Key}, {p.Value}"))).ToList();
        return chunks.Count == 1
            ? $"json_build_object({chunks[0]})"
            : "(" + string.Join(" || ", chunks.Select(c => $"jsonb_build_object({c})")) + ")::json";
    }

    private List<Entry> Entries(CollectionSchema collection, FieldTree tree, ItemQuery level, CollectionReadAccess access)
    {
        var explicitKeys = tree.Keys.Where(k => k != "*").ToHashSet(StringComparer.Ordinal);
        var entries = new List<Entry>();
        foreach (var key in tree.Keys)
        {
            if (key == "*")
            {
                var wildcard = tree["*"];
                foreach (var field in collection.Fields.Values)
                {
                    if (explicitKeys.Contains(field.Field) || !access.CanRead(field.Field)) continue;
                    var link = Link.Resolve(scope.Schema, collection, field);
                    if (field.IsAlias && link is null) continue; // a presentation alias has no value
                    var readable = link is null || scope.Access.Read(link.Target.Collection) is not null;
                    if (link is { ToMany: true } && !readable) continue;
                    var child = link is not null && readable && !wildcard.IsLeaf ? wildcard : null;
                    entries.Add(new Entry(field.Field, false, field, child, level.Deep.GetValueOrDefault(field.Field)));
                }
                continue;
            }
            var name = level.Alias.GetValueOrDefault(key, key);
            var target = collection.Field(name);
            if (target is null || !access.CanRead(name)) throw QueryErrors.ForbiddenField(name, collection.Collection);
            var node = tree[key];
            if (target.IsAlias && Link.Resolve(scope.Schema, collection, target) is null) continue;
            entries.Add(new Entry(key, name != key, target, node.IsLeaf ? null : node, level.Deep.GetValueOrDefault(key)));
        }
        return entries;
    }

    private string Value(CollectionSchema collection, string alias, Entry entry)
    {
        var link = Link.Resolve(scope.Schema, collection, entry.Field);
        if (link is null)
        {
            if (entry.Child is not null)
                throw QueryErrors.Invalid($"\"{entry.Field.Field}\" in \"{collection.Collection}\" is not a relational field, so it has no nested fields.");
            return ColumnValues.Output(entry.Field, filters.Column(collection, alias, entry.Field.Field));
        }
        if (!link.ToMany && entry.Child is null)
            return ColumnValues.Output(entry.Field, filters.Column(collection, alias, entry.Field.Field));
        return filters.Guarded(collection, alias, entry.Field.Field, Related(collection, alias, entry, link));
    }

    private string Related(CollectionSchema collection, string alias, Entry entry, Link link)
    {

        var access = scope.Through(link.Target.Collection, entry.Field.Field, collection.Collection);
        var deep = entry.Deep ?? ItemQuery.Default;
        var target = scope.NextAlias();
        var where = new List<string> { link.Join(alias, target) };
        if (filters.RowFilter(access, link.Target, target) is { } rows) where.Add(rows);
        if (deep.Filter is not null) where.Add(filters.Compile(deep.Filter, link.Target, target, enforce: true));
        if (deep.Search is { Length: > 0 } search) where.Add(new SearchCompiler(scope, filters).Compile(search, link.Target, target, access));
        var table = $"{CompileScope.Quote(link.Target.Collection)} {target}";
        var element = entry.Child is null
            ? ColumnValues.Output(link.Target.Field(link.Target.PrimaryKey!)!, $"{target}.{CompileScope.Quote(link.Target.PrimaryKey!)}")
            : Object(link.Target, target, entry.Child, deep with { Alias = new Dictionary<string, string>() }, access);

        if (!link.ToMany)
        {
            if (deep.Sort.Count > 0 || deep.Limit is not null || deep.Offset is not null || deep.Page is not null)
                throw QueryErrors.Invalid($"\"deep[{entry.Key}]\" is a many-to-one: it reads one item, so only _filter applies.");
            return $"(SELECT {element} FROM {table} WHERE {string.Join(" AND ", where)})";
        }

        var sorts = new SortCompiler(scope, filters).Compile(deep.Sort, link.Target, target,
            link.SortField is { } sortField ? sortField : link.Target.PrimaryKey!);
        var (limit, offset) = Paging.Resolve(deep, limits, $"deep[{entry.Key}]");
        var page = (limit is { } l ? $" LIMIT {scope.Param(l, "integer")}" : "") + (offset > 0 ? $" OFFSET {scope.Param(offset, "integer")}" : "");
        return $"coalesce((SELECT json_agg(s.j ORDER BY s.n) FROM (SELECT {element} AS j, row_number() OVER (ORDER BY {sorts}) AS n " +
               $"FROM {table} WHERE {string.Join(" AND ", where)} ORDER BY {sorts}{page}) s), '[]'::json)";
    }
}
