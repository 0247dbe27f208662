namespace AiAssistant.Services.Tools.Content.Query;

/// <summary>
/// What the caller may read of each collection, asked once per collection a query touches (the root and every
/// relation it reads, filters or sorts through), so a nested read can never show more than a direct one.
/// </summary>
public interface ICollectionAccess
{
    /// <summary>The caller's read permission on <paramref name="collection"/>, or null when it may not read it at all.</summary>
    CollectionReadAccess? Read(string collection);
}

/// <summary>
/// A read permission: rows outside <see cref="RowFilter"/> are invisible; <see cref="Fields"/> null (or holding
/// <c>*</c>) means every field. <see cref="Grants"/> are the policies' permissions it combines, when there are several:
/// a field one of them grants is visible only on the rows that permission's own filter admits (<see cref="Guard"/>).
/// </summary>
public sealed record CollectionReadAccess(Filter? RowFilter = null, IReadOnlySet<string>? Fields = null, IReadOnlyList<FieldGrant>? Grants = null)
{
    public static readonly CollectionReadAccess Everything = new();

    public bool CanRead(string field) => Fields is null || Fields.Contains("*") || Fields.Contains(field);

    /// <summary>
    /// Directus 11's per-row field hiding: the rows on which <paramref name="field"/> shows, when that is fewer than
    /// the visible rows — the filters of the grants that include the field; null when it shows on every visible row.
    /// </summary>
    public Filter? Guard(string field)
    {
        if (Grants is not { Count: > 1 } grants) return null;
        var allowing = grants.Where(g => g.CanRead(field)).ToList();
        if (allowing.Count == grants.Count || allowing.Count == 0 || allowing.Any(g => g.RowFilter is null)) return null;
        return allowing.Count == 1 ? allowing[0].RowFilter : new OrFilter(allowing.Select(g => g.RowFilter!).ToList());
    }
}

/// <summary>One policy's permission within a combined <see cref="CollectionReadAccess"/>: its row filter and its fields.</summary>
public sealed record FieldGrant(Filter? RowFilter, IReadOnlySet<string> Fields)
{
    public bool CanRead(string field) => Fields.Contains("*") || Fields.Contains(field);
}

/// <summary>Admins bypass permissions; so do tests of the query language itself.</summary>
public sealed class FullAccess : ICollectionAccess
{
    public static readonly FullAccess Instance = new();

    public CollectionReadAccess? Read(string collection) => CollectionReadAccess.Everything;
}

/// <summary>Access from a function, for a permission engine that already holds its rules in a dictionary.</summary>
public sealed class DelegateAccess(Func<string, CollectionReadAccess?> read) : ICollectionAccess
{
    public CollectionReadAccess? Read(string collection) => read(collection);
}
