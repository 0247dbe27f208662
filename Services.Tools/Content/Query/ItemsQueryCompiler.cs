using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// Compiles an <see cref="ItemQuery"/> on one collection into parameterised PostgreSQL. Every identifier is taken from
/// the schema snapshot and quoted; every value from the request is a parameter. The caller's permission (row filter,
/// readable fields) applies at the root and again on every related collection the query reads, filters or sorts through.
/// </summary>
public sealed class ItemsQueryCompiler(SchemaSnapshot schema, QueryLimits? limits = null)
{
    private readonly QueryLimits _limits = limits ?? QueryLimits.Directus;

    /// <summary>The statements for <paramref name="query"/> on <paramref name="collection"/>; 403 for a collection the caller cannot read or that does not exist.</summary>
    public CompiledItemsQuery Compile(string collection, ItemQuery query, ICollectionAccess access, QueryContext context)
    {
        var target = schema.Collection(collection);
        if (target?.PrimaryKey is null) throw QueryErrors.ForbiddenCollection(collection);
        var read = access.Read(collection) ?? throw QueryErrors.ForbiddenCollection(collection);
        foreach (var alias in query.Alias.Keys)
            if (target.Field(alias) is not null)
                throw QueryErrors.Invalid($"\"alias[{alias}]\" has the name of a field of \"{collection}\"; choose another name.");

        var items = Statement(target, read, access, context, query, query.IsAggregate ? Aggregated : Listed);
        var total = query.Meta.HasFlag(MetaKinds.TotalCount)
            ? Statement(target, read, access, context, query with { Filter = null, Search = null }, Counted) : null;
        var filtered = query.Meta.HasFlag(MetaKinds.FilterCount) ? Statement(target, read, access, context, query, Counted) : null;
        return new CompiledItemsQuery(items, total, filtered);
    }

    private delegate string Shape(Root root);

    /// <summary>The parts every statement on the root collection shares: its scope, alias, FROM and WHERE.</summary>
    private sealed record Root(CompileScope Scope, FilterCompiler Filters, CollectionSchema Collection, string Alias,
        CollectionReadAccess Read, ItemQuery Query, string From, string Where);

    private SqlStatement Statement(CollectionSchema collection, CollectionReadAccess read, ICollectionAccess access,
        QueryContext context, ItemQuery query, Shape shape)
    {
        var scope = new CompileScope(schema, access, context);
        var filters = new FilterCompiler(scope);
        var alias = scope.NextAlias();
        var where = new List<string>();
        if (filters.RowFilter(read, collection, alias) is { } rows) where.Add(rows);
        if (query.Filter is not null) where.Add(filters.Compile(query.Filter, collection, alias, enforce: true));
        if (query.Search is { Length: > 0 } search) where.Add(new SearchCompiler(scope, filters).Compile(search, collection, alias, read));
        var root = new Root(scope, filters, collection, alias, read, query, $"{CompileScope.Quote(collection.Collection)} {alias}",
            where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where));
        return scope.Statement(shape(root));
    }

    private string Listed(Root r)
    {
        var fields = FieldTree.From(r.Query.Fields ?? ["*"], _limits.MaxRelationalDepth);
        var joins = new List<string>();
        var item = new SelectionCompiler(r.Scope, r.Filters, _limits).Object(r.Collection, r.Alias, fields, r.Query, r.Read, joins);
        var sort = new SortCompiler(r.Scope, r.Filters).Compile(r.Query.Sort, r.Collection, r.Alias, r.Collection.PrimaryKey!);
        if (joins.Count == 0) return $"SELECT {item} AS item FROM {r.From}{r.Where} ORDER BY {sort}{Page(r)}";
        // The page first (filter, sort, limit on the collection alone), then its many-to-one joins and JSON: joined
        // before the limit, every matching row would be joined and built only to be dropped by the sort.
        return $"SELECT {item} AS item FROM (SELECT {r.Alias}.* FROM {r.From}{r.Where} ORDER BY {sort}{Page(r)}) {r.Alias}{string.Concat(joins)} ORDER BY {sort}";
    }

    private static string Counted(Root r) => $"SELECT count(*) FROM {r.From}{r.Where}";

    private string Aggregated(Root r)
    {
        var aggregate = new AggregateCompiler(r.Collection, r.Alias, r.Read, r.Filters);
        var groups = aggregate.Groups(r.Query.GroupBy);
        var sort = r.Query.Sort.Count == 0 ? "" : " ORDER BY " + string.Join(", ", r.Query.Sort.Select(s =>
            (groups.FirstOrDefault(g => g.Key.OutputName == s.Path || g.Key.Function is null && g.Key.Field == s.Path)?.Expression
             ?? throw QueryErrors.Invalid($"\"sort\" on an aggregate can only use its groupBy fields; \"{s.Path}\" is not one of them."))
            + (s.Descending ? " DESC" : " ASC")));
        var groupBy = groups.Count == 0 ? "" : " GROUP BY " + string.Join(", ", groups.Select(g => g.Expression));
        return $"SELECT {aggregate.Object(r.Query.Aggregate, groups)} AS item FROM {r.From}{r.Where}{groupBy}{sort}{Page(r)}";
    }

    private string Page(Root r)
    {
        var (limit, offset) = Paging.Resolve(r.Query, _limits, "");
        return (limit is { } l ? $" LIMIT {r.Scope.Param(l, "integer")}" : "") + (offset > 0 ? $" OFFSET {r.Scope.Param(offset, "integer")}" : "");
    }
}
