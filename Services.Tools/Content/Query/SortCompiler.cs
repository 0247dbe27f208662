using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// <c>sort</c> as ORDER BY. A path through many-to-one relations (<c>author.name</c>) becomes a correlated subquery
/// under the related collection's row filter, so sorting cannot reveal values of rows the caller cannot see.
/// </summary>
internal sealed class SortCompiler(CompileScope scope, FilterCompiler filters)
{
    /// <summary>
    /// The ORDER BY list: the sort keys, or <paramref name="defaultField"/> ascending without any, then the primary key
    /// ascending unless a key already is it. Rows that tie on the keys thus keep one order, so pages neither repeat nor
    /// skip a row, and the same read answers the same list whatever plan the database picks for the caller.
    /// </summary>
    public string Compile(IReadOnlyList<SortKey> sort, CollectionSchema collection, string alias, string defaultField)
    {
        var keys = sort.Count == 0
            ? [$"{alias}.{CompileScope.Quote(defaultField)} ASC"]
            : sort.Select(s => $"{Path(collection, alias, s.Path.Split('.'), 0)} {(s.Descending ? "DESC" : "ASC")}").ToList();
        var pk = collection.PrimaryKey;
        var ordersByKey = sort.Count == 0 ? defaultField == pk : sort.Any(s => s.Path == pk);
        if (pk is not null && !ordersByKey) keys.Add($"{alias}.{CompileScope.Quote(pk)} ASC");
        return string.Join(", ", keys);
    }

    public string Path(CollectionSchema collection, string alias, string[] segments, int index)
    {
        var name = segments[index];
        var field = collection.Field(name);
        if (field is null || !(scope.Access.Read(collection.Collection)?.CanRead(name) ?? false))
            throw QueryErrors.ForbiddenField(name, collection.Collection);
        var link = Link.Resolve(scope.Schema, collection, field);
        if (index == segments.Length - 1)
        {
            if (field.IsAlias)
                throw QueryErrors.Invalid($"\"{string.Join('.', segments)}\" cannot be sorted by: \"{name}\" holds many items. Sort through many-to-one fields only.");
            return filters.Column(collection, alias, name);
        }
        if (link is null or { ToMany: true })
            throw QueryErrors.Invalid($"\"{string.Join('.', segments)}\" cannot be sorted by: \"{name}\" is not a many-to-one field. Sort through many-to-one fields only.");
        var access = scope.Through(link.Target.Collection, name, collection.Collection);
        var target = scope.NextAlias();
        var where = link.Join(alias, target);
        if (filters.RowFilter(access, link.Target, target) is { } rows) where += " AND " + rows;
        return filters.Guarded(collection, alias, name,
            $"(SELECT {Path(link.Target, target, segments, index + 1)} FROM {CompileScope.Quote(link.Target.Collection)} {target} WHERE {where})");
    }
}
